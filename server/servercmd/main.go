// Package servercmd is pomerium-server's command line (Cobra): the root
// command serves (flags as before: --config, --dev, --address, ...), and
// subcommands each live in a file of their own (config_check.go is
// `config check FILE`). Errors become exit codes and one line in Run only.
//
//	os.Exit(servercmd.Main())
//	// or, in a test:
//	code := servercmd.Run(ctx, servercmd.NewFactory(nil, &out, &errOut), []string{"config", "check", "cfg.yaml"})
//
// Adding a subcommand: write newCmdX(f *Factory) *cobra.Command in a file
// of its own (x_verb.go) and add one line to the list in NewCmdRoot.
package servercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/porthole-dev/porthole/internal/adaptprocs"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/server/config"
)

// Exit codes, as pomerium-cli's.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Factory carries what commands share: the streams and the root's
// persistent --config flag.
type Factory struct {
	In          io.Reader
	Out, ErrOut io.Writer
	// ConfigFile is --config ("" when not given).
	ConfigFile string
	// AdaptProcs, when set, runs while the server serves: Main sets
	// adaptprocs.Start, which keeps the process on one P while it is
	// lightly loaded. Tests leave it nil, so a test process keeps its P
	// count.
	AdaptProcs func(context.Context) (stop func())
}

// NewFactory builds a factory over the given streams.
func NewFactory(in io.Reader, out, errOut io.Writer) *Factory {
	return &Factory{In: in, Out: out, ErrOut: errOut}
}

// LoadConfig loads path (or --config when path is "") with the
// environment's overrides applied, as the server does at start-up.
func (f *Factory) LoadConfig(path string) (*config.Config, error) {
	if path == "" {
		path = f.ConfigFile
	}
	if path == "" {
		return nil, usageError{errors.New("no configuration: pass --config FILE")}
	}
	return config.LoadEnv(path, os.LookupEnv)
}

// usageError marks a mistake on the command line (exit 2 with a pointer
// to --help).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// Main runs pomerium-server with os.Args and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := NewFactory(os.Stdin, os.Stdout, os.Stderr)
	f.AdaptProcs = adaptprocs.Start
	return Run(ctx, f, os.Args[1:])
}

// Run executes args and maps the error to an exit code and one line on
// ErrOut: the only place errors are printed.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	// Messages quote config values, paths and keys a file or a user
	// wrote: never raw to a terminal.
	fmt.Fprintln(f.ErrOut, "pomerium-server:", termtext.Escape(msg))
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "unknown flag") ||
		strings.Contains(msg, "flag needs an argument") || strings.HasPrefix(msg, "invalid argument") ||
		strings.HasPrefix(msg, "accepts ") {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(f.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return ExitUsage
	}
	return ExitError
}
