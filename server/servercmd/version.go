package servercmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/version"
)

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(f.Out, "pomerium-server %s\n", version.String())
			return err
		},
	}
}
