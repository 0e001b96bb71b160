package servercmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server/authn"
)

func newCmdServiceAccountRevoke(f *Factory) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a service account: its token stops working on every replica",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("service-account revoke needs exactly one ID (see service-account list)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, closeStore, err := openAccounts(cmd.Context(), f, dataDir)
			if err != nil {
				return err
			}
			defer closeStore()
			if err := authn.RevokeServiceAccount(cmd.Context(), st, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(f.ErrOut, "service account %s revoked\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "`dir` of the embedded store (default: data_dir, else the server's default)")
	return cmd
}
