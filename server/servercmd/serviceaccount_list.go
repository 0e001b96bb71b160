package servercmd

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/internal/termtext"
)

func newCmdServiceAccountList(f *Factory) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List service accounts (id, user, expiry; never tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, closeStore, err := openAccounts(cmd.Context(), f, dataDir)
			if err != nil {
				return err
			}
			defer closeStore()
			accounts, err := st.ListServiceAccounts(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing service accounts: %w", err)
			}
			for _, a := range accounts {
				exp := "never"
				if !a.ExpiresAt.IsZero() {
					exp = a.ExpiresAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(f.Out, "%s\t%s\t%s\t%s\n", a.ID, termtext.Escape(a.UserID), exp, strconv.Quote(a.Description))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "`dir` of the embedded store (default: data_dir, else the server's default)")
	return cmd
}
