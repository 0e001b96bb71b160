package servercmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server"
)

func newCmdConfigCheck(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a configuration file without starting the server",
		Long: `Validate a configuration file as the server would at start-up (every key,
the certificates and keys it names, the routes and policies) without
listening. FILE defaults to --config. Environment overrides apply.`,
		Example: "  pomerium-server config check /etc/pomerium/config.yaml",
		Args:    cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path := f.ConfigFile
			if len(args) == 1 {
				path = args[0]
			}
			cfg, err := f.LoadConfig(path)
			if err != nil {
				return err
			}
			if err := server.Check(cfg); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			_, err = fmt.Fprintf(f.Out, "%s: ok (%d routes)\n", path, len(cfg.Routes))
			return err
		},
	}
}
