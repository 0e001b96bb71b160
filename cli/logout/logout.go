// Package logout is `pomerium-cli logout`: forget cached tokens.
package logout

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// LogoutOptions are the parsed arguments of `logout`.
type LogoutOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory

	ServerURL string
	All       bool
	// Revoke asks the proxy to stop accepting a token before it is
	// forgotten here; nil uses authflow.Revoke over the factory's client.
	Revoke func(ctx context.Context, proxy *url.URL, tok string) error
}

// NewCmdLogout builds `logout [server-url] [--all]`. runF replaces logoutRun in tests.
func NewCmdLogout(f *cmdutil.Factory, runF func(*LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "logout [server-url]",
		Short: "Forget the cached token of a proxy (or of every proxy with --all)",
		Long: `Forget the cached token of the proxy (the last one used when no URL is given),
or with --all every cached token. The proxy is asked to revoke the token
first, so a copy of it left anywhere stops working too (a proxy without
that API, such as Pomerium itself, only loses the local copy).`,
		Example: `  pomerium-cli logout https://proxy.example.com
  pomerium-cli logout --all`,
		Args: cmdutil.MaximumArgs(1, "one server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.ServerURL = args[0]
			}
			if opts.All && opts.ServerURL != "" {
				return cmdutil.Usagef("give a server URL or --all, not both")
			}
			if runF != nil {
				return runF(opts)
			}
			return logoutRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "forget the tokens of every proxy")
	return cmd
}

func logoutRun(opts *LogoutOptions) error {
	store := opts.Factory.TokenStore()
	if opts.Revoke == nil {
		opts.Revoke = func(ctx context.Context, proxy *url.URL, tok string) error {
			hc, err := opts.Factory.HTTPClient()
			if err != nil {
				return err
			}
			return authflow.Revoke(ctx, hc, proxy, tok)
		}
	}
	if opts.All {
		hosts, err := store.Hosts()
		if err != nil {
			return fmt.Errorf("listing cached tokens: %w", err)
		}
		for _, h := range hosts {
			revoke(opts, store, &url.URL{Scheme: "https", Host: h}, h)
			if err := store.Delete(h); err != nil && !errors.Is(err, authflow.ErrNotFound) {
				return fmt.Errorf("forgetting the token of %s: %w", h, err)
			}
			fmt.Fprintf(opts.IO.ErrOut, "Signed out of %s\n", termtext.Escape(h))
		}
		if len(hosts) == 0 {
			fmt.Fprintln(opts.IO.ErrOut, "No cached tokens.")
		}
		return nil
	}
	u, err := opts.Factory.ResolveServer(opts.ServerURL, "pomerium-cli logout https://proxy.example.com, or --all")
	if err != nil {
		return err
	}
	host := authflow.HostKey(u)
	if _, err := store.Load(host); errors.Is(err, authflow.ErrNotFound) {
		fmt.Fprintf(opts.IO.ErrOut, "Not signed in to %s\n", termtext.Escape(host))
		return nil
	}
	revoke(opts, store, u, host)
	if err := store.Delete(host); err != nil && !errors.Is(err, authflow.ErrNotFound) {
		return fmt.Errorf("forgetting the token of %s: %w", host, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Signed out of %s\n", termtext.Escape(host))
	return nil
}

// revoke asks the proxy to revoke the cached token of host; failing that
// the local copy is still forgotten, with a warning.
func revoke(opts *LogoutOptions, store authflow.TokenStore, proxy *url.URL, host string) {
	tok, err := store.Load(host)
	if err != nil || tok == "" {
		return
	}
	err = opts.Revoke(context.Background(), proxy, tok)
	switch {
	case err == nil:
		fmt.Fprintf(opts.IO.ErrOut, "Revoked the token at %s\n", termtext.Escape(host))
	case errors.Is(err, authflow.ErrRevokeUnsupported):
	default:
		fmt.Fprintf(opts.IO.ErrOut, "warning: could not revoke the token at the proxy (%s); it is forgotten here anyway\n", termtext.Escape(err.Error()))
	}
}
