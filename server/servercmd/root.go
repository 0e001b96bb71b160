package servercmd

import (
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/version"
)

// NewCmdRoot builds the command tree. The root command itself serves.
func NewCmdRoot(f *Factory) *cobra.Command {
	opts := &serveOptions{f: f}
	root := &cobra.Command{
		Use:   "pomerium-server",
		Short: "A Pomerium-compatible identity-aware proxy, portal and CONNECT server",
		Long: `pomerium-server reads a Pomerium configuration (--config FILE) and serves
its routes behind OpenID Connect sign-in and PPL policies: the routes
portal, the login API, CONNECT tunnels and the HTTP reverse proxy.
With --dev it runs alone: a local CA, a built-in OpenID provider with
dev users, sample upstreams and routes.`,
		Example: `  pomerium-server --dev
  pomerium-server --config /etc/pomerium/config.yaml
  pomerium-server config check /etc/pomerium/config.yaml`,
		Version:       version.String(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.logLevelSet = cmd.Flags().Changed("log-level")
			return serveRun(cmd.Context(), opts)
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetVersionTemplate("pomerium-server {{.Version}}\n")
	root.SetOut(f.Out)
	root.SetErr(f.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&f.ConfigFile, "config", "", "YAML configuration `file` (Pomerium's keys)")
	opts.addFlags(root)

	// One line per subcommand; each command lives in a file of its own.
	root.AddCommand(
		newCmdConfig(f),
		newCmdVersion(f),
		newCmdAPIUser(f),
		newCmdServiceAccount(f),
	)
	return root
}

// noArgs refuses stray arguments on the serving root, suggesting a
// subcommand when the word is close to one.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := "unexpected argument " + quote(args[0]) + " (flags only; see --help)"
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg = "unknown command " + quote(args[0]) + "; did you mean " + quote(s[0]) + "?"
	}
	return usageError{errorString(msg)}
}
