// Package servers is `pomerium-cli servers`: the remembered servers (URL,
// TLS options, pomerium-url, last use) that let later commands leave out
// the server URL and the TLS flags.
package servers

import (
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// NewCmdServers builds the `servers` noun.
func NewCmdServers(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "servers",
		Short: "List and forget the remembered servers",
		Long: `Every server a command signs in to or lists routes from is remembered with
the TLS options it was reached with (--alternate-ca-path, --ca-cert,
--client-cert, --client-key; never --disable-tls-verification). Commands
run without a server URL use the most recent one; a remembered server named
without TLS flags gets its remembered options. Flags always win.`,
		Example: `  pomerium-cli servers list
  pomerium-cli servers forget https://proxy.example.com`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("unknown command %q for %s: try %s list", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmdutil.Usagef("missing subcommand: try %s list", cmd.CommandPath())
		},
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdForget(f, nil))
	return cmd
}
