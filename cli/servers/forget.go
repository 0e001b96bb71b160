package servers

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// ForgetOptions are the parsed arguments of `servers forget`.
type ForgetOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Server  string
}

// NewCmdForget builds `servers forget <server-url>`. runF replaces
// forgetRun in tests.
func NewCmdForget(f *cmdutil.Factory, runF func(*ForgetOptions) error) *cobra.Command {
	opts := &ForgetOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:     "forget <server-url>",
		Aliases: []string{"rm"},
		Short:   "Forget a remembered server (its cached token stays: see logout)",
		Args:    cmdutil.ExactArgs(1, "server URL (see `pomerium-cli servers list`)"),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return ServerURLs(f), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Server = args[0]
			if runF != nil {
				return runF(opts)
			}
			return forgetRun(opts)
		},
	}
	return cmd
}

func forgetRun(opts *ForgetOptions) error {
	u, err := cmdutil.ParseServerURL(opts.Server)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	ok, err := opts.Factory.ForgetServer(u)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s is not a remembered server: see `pomerium-cli servers list`", termtext.Escape(u.String()))
	}
	fmt.Fprintf(opts.IO.ErrOut, "Forgot %s\n", termtext.Escape(u.String()))
	return nil
}

// ServerURLs are the remembered servers' URLs for shell completion (from
// the file only, never the network).
func ServerURLs(f *cmdutil.Factory) []string {
	ps, _ := f.Profiles()
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.URL)
	}
	return out
}
