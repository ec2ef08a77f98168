package main

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ktftest_sleep: a create that takes `seconds`, for tests of long applies, of cancelling a
// run and of Ctrl-C. The engine's StopProvider cancels ctx, which ends the sleep.
type sleepResource struct{}

type sleepModel struct {
	ID      types.String `tfsdk:"id"`
	Seconds types.Int64  `tfsdk:"seconds"`
}

func newSleepResource() resource.Resource { return &sleepResource{} }

func (r *sleepResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sleep"
}

func (r *sleepResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				Description:   "When the sleep ended (RFC 3339).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"seconds": schema.Int64Attribute{
				Required:      true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
		},
	}
}

func (r *sleepResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan sleepModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timer := time.NewTimer(time.Duration(plan.Seconds.ValueInt64()) * time.Second)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		resp.Diagnostics.AddError("Sleep interrupted", ctx.Err().Error())
		return
	}
	plan.ID = types.StringValue(time.Now().UTC().Format(time.RFC3339))
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sleepResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Update is never planned (seconds forces replacement); the framework requires it.
func (r *sleepResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan)...)
}

func (r *sleepResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
