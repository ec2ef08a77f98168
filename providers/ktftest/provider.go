package main

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type ktftestProvider struct{ version string }

var _ provider.ProviderWithFunctions = (*ktftestProvider)(nil)

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
}

func newProvider(version string) func() provider.Provider {
	return func() provider.Provider { return &ktftestProvider{version: version} }
}

func (p *ktftestProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "ktftest"
	resp.Version = p.version
}

func (p *ktftestProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional:    true,
				Description: "Base URL of the object server ktftest_object talks to; defaults to KTFTEST_ENDPOINT.",
			},
		},
	}
}

func (p *ktftestProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint := os.Getenv("KTFTEST_ENDPOINT")
	if !config.Endpoint.IsNull() && !config.Endpoint.IsUnknown() {
		endpoint = config.Endpoint.ValueString()
	}
	client := newObjectClient(endpoint)
	resp.ResourceData = client
	resp.DataSourceData = client
}

func (p *ktftestProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newObjectResource, newSleepResource, newBlobResource}
}

func (p *ktftestProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{newExecFunction}
}

func (p *ktftestProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newCredentialsDataSource, newExecDataSource}
}
