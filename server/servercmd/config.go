package servercmd

import "github.com/spf13/cobra"

// newCmdConfig is the `config` noun; its verbs live in config_<verb>.go.
func newCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with configuration files",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdConfigCheck(f))
	return cmd
}
