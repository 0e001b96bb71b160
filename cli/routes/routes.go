// Package routes is `pomerium-cli routes`: list the routes the signed-in
// user may use (list.go) and pick one interactively (pick.go).
package routes

import (
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// NewCmdRoutes builds the `routes` noun.
func NewCmdRoutes(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "routes <command>",
		Short: "List the routes a proxy offers you",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("unknown command %q for %s: try %s list", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmdutil.Usagef("missing subcommand: try %s list", cmd.CommandPath())
		},
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdPick(f))
	return cmd
}
