package servercmd

import "github.com/spf13/cobra"

// newCmdAPIUser is the `api-user` noun; its verbs live in apiuser_<verb>.go.
func newCmdAPIUser(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "api-user",
		Short: "Manage the management API's users",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdAPIUserCreate(f))
	return cmd
}
