// Package cli is pomerium-cli: the Cobra command tree, the factory that
// builds shared dependencies, and the one place where errors become exit
// codes and hints.
//
//	os.Exit(cli.Main())
//	// or, in a test: code := cli.Run(ctx, cli.NewFactory(in, out, errOut), args)
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/browser"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/adaptprocs"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitUsage     = 2
	ExitInterrupt = 130
)

// Main runs pomerium-cli with os.Args and returns the exit code.
func Main() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// pkg/browser echoes xdg-open's output on stdout, which carries data
	// only (pomerium-cli auth prints a token there).
	browser.Stdout = os.Stderr
	f := NewFactory(os.Stdin, os.Stdout, os.Stderr)
	f.AdaptProcs = adaptprocs.Start
	// Signals are watched from the moment a command runs: --help and a
	// usage error exit without the thread signal.Notify starts (a fifth
	// of --help's time on the bench's VM, and 13 of its 50 context
	// switches).
	sigs := make(chan os.Signal, 2)
	defer signal.Stop(sigs)
	f.OnRun = func() {
		// Only once a command runs: the switch itself took 0.03-1.4 ms
		// on the bench's VM (the runtime hands back the spans cached by
		// the P it drops), which --help, with no goroutines to spread,
		// never earns back.
		adaptprocs.OneP()
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go watchSignals(sigs, cancel, interruptGrace, func(code int) {
			fmt.Fprintln(os.Stderr, "Interrupted")
			os.Exit(code)
		})
	}
	return Run(ctx, f, os.Args[1:])
}

// interruptGrace is how long a command may take to wind down after
// Ctrl-C or SIGTERM before the process exits anyway.
const interruptGrace = 5 * time.Second

// watchSignals makes Ctrl-C and SIGTERM always work: the first cancels
// the command's context (tunnels close, files are left whole); if the
// command is still running after grace (a read no context reaches) or
// a second signal comes, exit ends the process with 130.
func watchSignals(sigs <-chan os.Signal, cancel context.CancelFunc, grace time.Duration, exit func(int)) {
	if _, ok := <-sigs; !ok {
		return
	}
	cancel()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-sigs:
	case <-t.C:
	}
	exit(ExitInterrupt)
}

// Run executes args against f and maps the error to an exit code and a
// one-line message with a hint: the only place errors are printed.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	w := f.IO.ErrOut
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(w, "Interrupted")
		return ExitInterrupt
	}
	if cmdutil.IsUsageError(err) || strings.HasPrefix(err.Error(), "unknown command ") {
		if cmd == nil {
			cmd = root
		}
		msg := err.Error()
		if i := strings.Index(msg, "\n\nDid you mean"); i >= 0 {
			msg = msg[:i] // cobra's own multi-line suggestion; ours is one line
		}
		fmt.Fprintf(w, "Error: %s\n", oneLine(withSuggestion(msg, suggestFor(cmd, msg))))
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return ExitUsage
	}
	line, hint := cmdutil.Explain(err, f.Target)
	fmt.Fprintf(w, "Error: %s\n", line)
	if hint != "" {
		fmt.Fprintf(w, "Hint: %s\n", hint)
	}
	if f.Opts.Verbose {
		printChain(w, err)
	}
	return ExitError
}

// oneLine keeps an error to one line: the user sees one clear line, and
// --verbose shows the rest. Errors quote servers and files (error bodies,
// names), so what is left is escaped for the terminal.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return termtext.Escape(s)
}

// printChain shows each wrapped error with its type, for --verbose.
func printChain(w io.Writer, err error) {
	fmt.Fprintln(w, "Details:")
	var walk func(err error, depth int)
	walk = func(err error, depth int) {
		if err == nil || depth > 20 {
			return
		}
		fmt.Fprintf(w, "%s%T: %s\n", strings.Repeat("  ", depth+1), err, termtext.Escape(err.Error()))
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e, depth+1)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		}
	}
	walk(err, 0)
}
