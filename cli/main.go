// Package cli is pomerium-cli: the Cobra command tree, the factory that
// builds shared dependencies, and the one place where errors become exit
// codes and hints.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
)

// Main runs pomerium-cli with os.Args and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	f := NewFactory(os.Stdin, os.Stdout, os.Stderr)
	return Run(ctx, f, os.Args[1:])
}

// Run executes args against f and maps the error to an exit code.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		return 130
	}
	fmt.Fprintf(f.IO.ErrOut, "Error: %v\n", err)
	return 1
}
