package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// How long to keep reading stdout and stderr once the program has exited or been stopped,
// while something it left running still holds them open; after that Read returns.
const execPipeWait = 10 * time.Second

// ktftest_exec: runs a program whenever the data source is read, plan included, as
// hashicorp/external does, so a test can play a configuration whose code runs in the run
// pod. A non-zero exit is a result (exit_code), not an error, so tests can see it.
type execDataSource struct{}

type execModel struct {
	Command     types.List   `tfsdk:"command"`
	Environment types.Map    `tfsdk:"environment"`
	WorkingDir  types.String `tfsdk:"working_dir"`
	Stdout      types.String `tfsdk:"stdout"`
	Stderr      types.String `tfsdk:"stderr"`
	ExitCode    types.Int64  `tfsdk:"exit_code"`
}

func newExecDataSource() datasource.DataSource { return &execDataSource{} }

func (d *execDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_exec"
}

func (d *execDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"command": schema.ListAttribute{
				ElementType: types.StringType,
				Required:    true,
				Description: "The program and its arguments (argv), run without a shell: [\"sh\", \"-c\", \"...\"] for one.",
			},
			"environment": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Description: "Variables added to the provider's own environment; they win over its values.",
			},
			"working_dir": schema.StringAttribute{
				Optional:    true,
				Description: "Where the program runs; the provider's working directory (the engine's) when not set.",
			},
			"stdout":    schema.StringAttribute{Computed: true, Description: "All the program wrote to stdout."},
			"stderr":    schema.StringAttribute{Computed: true, Description: "All the program wrote to stderr."},
			"exit_code": schema.Int64Attribute{Computed: true, Description: "Its exit status; 128+N when signal N killed it, as a shell reports it."},
		},
	}
}

func (d *execDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config execModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var argv []string
	resp.Diagnostics.Append(config.Command.ElementsAs(ctx, &argv, false)...)
	env := map[string]string{}
	if !config.Environment.IsNull() {
		resp.Diagnostics.Append(config.Environment.ElementsAs(ctx, &env, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if len(argv) == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("command"), "Empty command", "command needs at least the program to run")
		return
	}

	dir := config.WorkingDir.ValueString()
	if dir != "" {
		// Checked first: else Start reports a missing directory as the program missing.
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			resp.Diagnostics.AddAttributeError(path.Root("working_dir"), "Could not start the command", fmt.Sprintf("%q: working_dir %q is not a directory", argv, dir))
			return
		}
	}

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	// Later entries win over earlier ones with the same name.
	cmd.Env = os.Environ()
	for name, value := range env {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so that when the engine stops the provider (ctx) the kill
	// reaches what the program started too (sh -c "sleep 300"), not only the program.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = execPipeWait

	if err := cmd.Start(); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("command"), "Could not start the command", fmt.Sprintf("%q: %s", argv, err))
		return
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		resp.Diagnostics.AddError("Command interrupted", fmt.Sprintf("%q: %s", argv, ctx.Err()))
		return
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited 0, but something it started kept stdout or stderr open.
		resp.Diagnostics.AddWarning("Output not read to the end", fmt.Sprintf("%q exited, but stdout or stderr was still open %s later (a process it left running?); what came after is not in stdout/stderr", argv, execPipeWait))
	case err != nil && !errors.As(err, &exitErr):
		resp.Diagnostics.AddError("Command failed", fmt.Sprintf("%q: %s", argv, err))
		return
	}

	config.Stdout = types.StringValue(stdout.String())
	config.Stderr = types.StringValue(stderr.String())
	config.ExitCode = types.Int64Value(int64(exitCode(cmd.ProcessState)))
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}

// exitCode is the program's exit status; ProcessState.ExitCode gives -1 for a signal.
func exitCode(state *os.ProcessState) int {
	if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return 128 + int(status.Signal())
	}
	return state.ExitCode()
}
