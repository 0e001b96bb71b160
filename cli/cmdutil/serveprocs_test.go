package cmdutil

import (
	"context"
	"testing"
)

// TestServeProcs: the controller runs for the command's lifetime, with
// the command's context, and the func ServeProcs returns is the
// controller's own stop (which ends it while that context lives on: see
// adaptprocs' tests).
func TestServeProcs(t *testing.T) {
	(&Factory{}).ServeProcs(context.Background())() // none set: nothing to run

	var started context.Context
	stopped := 0
	f := &Factory{AdaptProcs: func(ctx context.Context) func() {
		started = ctx
		return func() { stopped++ }
	}}
	cmdCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := f.ServeProcs(cmdCtx)
	if started != cmdCtx {
		t.Fatal("the controller did not start with the command's context")
	}
	stop()
	if stopped != 1 || cmdCtx.Err() != nil {
		t.Errorf("after stop: controller stopped %d times, command context ended %v; want 1, false", stopped, cmdCtx.Err() != nil)
	}
}
