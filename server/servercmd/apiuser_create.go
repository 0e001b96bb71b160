package servercmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server/api"
)

func newCmdAPIUserCreate(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API user and print its token",
		Long: `Create a user of the management API (/api/v0) in the store of --config
and print its token on stdout, once: only a hash is kept. Exchange it
for an ID token with POST /api/v0/token {"refreshToken": TOKEN}.`,
		Example: `  pomerium-server api-user create --config /etc/pomerium/config.yaml ci > ci.token`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("api-user create needs exactly one NAME (e.g. ci)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.LoadConfig("")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, cfg, "")
			if err != nil {
				return err
			}
			defer st.Close()
			_, tok, err := api.CreateAPIUser(ctx, st, args[0], "admin", "pomerium-server api-user create")
			if err != nil {
				return fmt.Errorf("creating API user %q: %w", args[0], err)
			}
			_, err = fmt.Fprintln(f.Out, tok)
			return err
		},
	}
}
