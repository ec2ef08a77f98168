package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

const defaultCredentialsVariable = "KTFTEST_TOKEN"

// ktftest_credentials: tells whether the engine's environment holds a credential, and its
// SHA-256, so a test can check which secret a run got without the secret reaching state.
type credentialsDataSource struct{}

type credentialsModel struct {
	Variable types.String `tfsdk:"variable"`
	Present  types.Bool   `tfsdk:"present"`
	SHA256   types.String `tfsdk:"sha256"`
}

func newCredentialsDataSource() datasource.DataSource { return &credentialsDataSource{} }

func (d *credentialsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credentials"
}

func (d *credentialsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"variable": schema.StringAttribute{
				Optional:    true,
				Computed:    true,
				Description: "The environment variable to read; " + defaultCredentialsVariable + " when not set.",
			},
			"present": schema.BoolAttribute{Computed: true},
			"sha256":  schema.StringAttribute{Computed: true, Description: "Hex SHA-256 of the value; null when absent."},
		},
	}
}

func (d *credentialsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config credentialsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if config.Variable.IsNull() {
		config.Variable = types.StringValue(defaultCredentialsVariable)
	}
	value, present := os.LookupEnv(config.Variable.ValueString())
	config.Present = types.BoolValue(present)
	config.SHA256 = types.StringNull()
	if present {
		sum := sha256.Sum256([]byte(value))
		config.SHA256 = types.StringValue(hex.EncodeToString(sum[:]))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}
