package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A plan or apply message carries the prior and the planned state: 64 MiB keeps it under
// terraform-plugin-go's 256 MiB gRPC message limit.
const maxBlobSize = 64 << 20

// ktftest_blob: a large computed attribute, for tests of big states and plans.
type blobResource struct{}

type blobModel struct {
	ID   types.String `tfsdk:"id"`
	Size types.Int64  `tfsdk:"size"`
	Data types.String `tfsdk:"data"`
}

func newBlobResource() resource.Resource { return &blobResource{} }

func (r *blobResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_blob"
}

func (r *blobResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep},
			"size": schema.Int64Attribute{
				Required:      true,
				Description:   fmt.Sprintf("Length of data in bytes, at most %d.", maxBlobSize),
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"data": schema.StringAttribute{Computed: true, PlanModifiers: keep},
		},
	}
}

func (r *blobResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan blobModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	size := plan.Size.ValueInt64()
	if size < 0 || size > maxBlobSize {
		resp.Diagnostics.AddAttributeError(path.Root("size"), "Invalid blob size", fmt.Sprintf("size must be between 0 and %d, got %d", maxBlobSize, size))
		return
	}
	plan.Data = types.StringValue(blobData(int(size)))
	plan.ID = types.StringValue(fmt.Sprintf("blob-%d", size))
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *blobResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Update is never planned (size forces replacement); the framework requires it.
func (r *blobResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan)...)
}

func (r *blobResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// blobData is the same for the same size, and base64 of a SHA-256 stream rather than one
// repeated letter, so that compressing a state does not make it small.
func blobData(size int) string {
	var b strings.Builder
	b.Grow(size + 64)
	var counter [8]byte
	for i := uint64(0); b.Len() < size; i++ {
		binary.BigEndian.PutUint64(counter[:], i)
		sum := sha256.Sum256(counter[:])
		b.WriteString(base64.RawURLEncoding.EncodeToString(sum[:]))
	}
	return b.String()[:size]
}
