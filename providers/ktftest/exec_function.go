package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// provider::ktftest::exec(argv): runs a program wherever the expression is evaluated and
// returns its stdout. Unlike the data source, a function also runs in `console`, which
// reads data sources from the state and never calls them: a test plays a configuration
// whose code runs when a user types an expression there.
type execFunction struct{}

func newExecFunction() function.Function { return &execFunction{} }

func (f *execFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "exec"
}

func (f *execFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary:     "Runs a program and returns its stdout",
		Description: "The program and its arguments (argv), run without a shell; a non-zero exit is not an error.",
		Parameters:  []function.Parameter{function.ListParameter{Name: "command", ElementType: types.StringType}},
		Return:      function.StringReturn{},
	}
}

func (f *execFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var argv []string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &argv))
	if resp.Error != nil {
		return
	}
	if len(argv) == 0 {
		resp.Error = function.NewArgumentFuncError(0, "command needs at least the program to run")
		return
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	// As the data source: its own process group, killed whole when the engine stops the provider.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = execPipeWait
	if err := cmd.Start(); err != nil {
		resp.Error = function.NewFuncError(fmt.Sprintf("could not start %q: %s", argv, err))
		return
	}
	_ = cmd.Wait()
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, stdout.String()))
}
