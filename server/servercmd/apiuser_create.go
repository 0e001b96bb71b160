package servercmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/api"
)

type apiUserCreateOptions struct {
	f       *Factory
	dataDir string
	name    string
}

func newCmdAPIUserCreate(f *Factory) *cobra.Command {
	o := &apiUserCreateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API user and print its token",
		Long: `Create a user of the management API (/api/v0) in the store of --config
(the one the server uses: data_dir or --data-dir, or PostgreSQL) and
print its token on stdout, once: only a hash is kept. Exchange it for
an ID token with POST /api/v0/token {"refreshToken": TOKEN}.`,
		Example: `  pomerium-server api-user create --config /etc/pomerium/config.yaml ci > ci.token`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("api-user create needs exactly one NAME (e.g. ci)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return apiUserCreateRun(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.dataDir, "data-dir", "", "`dir` of the embedded store (default: data_dir, else the server's default)")
	cmd.MarkFlagDirname("data-dir")
	return cmd
}

func apiUserCreateRun(cmd *cobra.Command, o *apiUserCreateOptions) error {
	cfg, err := o.f.LoadConfig("")
	if err != nil {
		return err
	}
	dir := o.dataDir
	if dir == "" && cfg.Storage.DataDir == "" {
		if dir, err = defaultDataDir(); err != nil {
			return err
		}
	}
	ctx := cmd.Context()
	st, err := server.OpenStore(ctx, cfg, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	_, tok, err := api.CreateAPIUser(ctx, st, o.name, "admin", "pomerium-server api-user create")
	if err != nil {
		return fmt.Errorf("creating API user %q: %w", o.name, err)
	}
	_, err = fmt.Fprintln(o.f.Out, tok)
	return err
}
