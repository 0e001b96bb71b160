package servercmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
)

// newCmdServiceAccount is the `service-account` noun; its verbs live in
// serviceaccount_<verb>.go.
func newCmdServiceAccount(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service-account",
		Short: "Manage service accounts (bearer tokens acting as a user, for pomerium-cli --service-account)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdServiceAccountCreate(f), newCmdServiceAccountList(f), newCmdServiceAccountRevoke(f))
	return cmd
}

// openAccounts opens the store of --config (the one the server uses), as
// authn sees it, with the config for its keys.
func openAccounts(ctx context.Context, f *Factory, dataDir string) (authn.Store, *config.Config, func(), error) {
	cfg, err := f.LoadConfig("")
	if err != nil {
		return nil, nil, nil, err
	}
	if dataDir == "" && cfg.Storage.DataDir == "" {
		if dataDir, err = defaultDataDir(); err != nil {
			return nil, nil, nil, err
		}
	}
	st, err := server.OpenStore(ctx, cfg, dataDir)
	if err != nil {
		return nil, nil, nil, err
	}
	return authn.FromStore(st), cfg, func() { st.Close() }, nil
}

var errNeedSecret = errors.New("service account tokens are signed with shared_secret: set it in the config (head -c32 /dev/urandom | base64), the same the server uses")
