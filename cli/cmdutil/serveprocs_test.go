package cmdutil

import (
	"context"
	"testing"
)

// TestServeProcs: the controller runs for the command's lifetime and is
// stopped (its context ended, its end waited for) when the command returns,
// even though the command's own context lives on.
func TestServeProcs(t *testing.T) {
	(&Factory{}).ServeProcs(context.Background())() // none set: nothing to run

	var started context.Context
	waited := false
	f := &Factory{AdaptProcs: func(ctx context.Context) func() {
		started = ctx
		return func() {
			if ctx.Err() == nil {
				t.Error("waited on the controller before its context ended")
			}
			waited = true
		}
	}}
	cmdCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := f.ServeProcs(cmdCtx)
	if started == nil || started.Err() != nil {
		t.Fatal("the controller did not start with a live context")
	}
	stop()
	if !waited || cmdCtx.Err() != nil {
		t.Errorf("after stop: waited %v, command context ended %v; want true, false", waited, cmdCtx.Err() != nil)
	}
}
