package servercmd

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/authn"
)

type serviceAccountCreateOptions struct {
	f           *Factory
	dataDir     string
	user        string
	description string
	expires     time.Duration
}

func newCmdServiceAccountCreate(f *Factory) *cobra.Command {
	o := &serviceAccountCreateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "create --user NAME [--expires 720h]",
		Short: "Create a service account and print its token",
		Long: `Create a service account acting as --user (policies see that user; an
email address also matches email criteria) in the store of --config and
print its token on stdout, once: the store keeps only a hash. Give it to
pomerium-cli with --service-account or --service-account-file. The
account's id goes to stderr; revoke it with service-account revoke ID.`,
		Example: `  pomerium-server service-account create --config /etc/pomerium/config.yaml --user ci@example.com --expires 720h > ci.token
  pomerium-cli tcp db.example.com:5432 --service-account-file ci.token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.user == "" {
				return usageError{errors.New("--user NAME is required (the user the account acts as, e.g. ci@example.com)")}
			}
			if o.expires < 0 {
				return usageError{errors.New("--expires must not be negative (e.g. 720h; 0: never)")}
			}
			return serviceAccountCreateRun(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.user, "user", "", "the user `NAME` the account acts as")
	cmd.Flags().DurationVar(&o.expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	cmd.Flags().StringVar(&o.description, "description", "", "free text shown by service-account list")
	cmd.Flags().StringVar(&o.dataDir, "data-dir", "", "`dir` of the embedded store (default: data_dir, else the server's default)")
	return cmd
}

func serviceAccountCreateRun(cmd *cobra.Command, o *serviceAccountCreateOptions) error {
	ctx := cmd.Context()
	st, cfg, closeStore, err := openAccounts(ctx, o.f, o.dataDir)
	if err != nil {
		return err
	}
	defer closeStore()
	if cfg.SharedSecret == "" {
		return errNeedSecret
	}
	keys, err := server.Keys(cfg)
	if err != nil {
		return err
	}
	sa, tok, err := authn.CreateServiceAccount(ctx, st, keys, o.user, o.description, o.expires, time.Now())
	if err != nil {
		return fmt.Errorf("creating a service account for %s: %w", o.user, err)
	}
	until := "never expires"
	if !sa.ExpiresAt.IsZero() {
		until = "expires " + sa.ExpiresAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(o.f.ErrOut, "service account %s for %s (%s)\n", sa.ID, sa.UserID, until)
	_, err = fmt.Fprintln(o.f.Out, tok)
	return err
}
