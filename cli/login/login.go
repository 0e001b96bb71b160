// Package login is `pomerium-cli login`: sign in to a proxy through the
// browser and cache the token, so later commands need no browser.
package login

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// LoginOptions are the parsed arguments of `login`.
type LoginOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	ServerURL string
}

// NewCmdLogin builds `login [server-url]`. runF replaces loginRun in tests.
func NewCmdLogin(f *cmdutil.Factory, runF func(*LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "login [server-url]",
		Short: "Sign in to a proxy through the browser and cache the token",
		Long: `Sign in to the proxy through the browser (a fresh sign-in even when a token
is cached) and keep the token in the OS keyring, or a 0600 file where no
keyring runs. One sign-in serves every route of the proxy. The server is
remembered (with the TLS flags given) and its routes list cached, so route
names work and complete right away.`,
		Example: `  pomerium-cli login https://proxy.example.com
  pomerium-cli login                                           # the remembered server again
  pomerium-cli login https://proxy.example.com --no-browser   # print the URL only
  pomerium-cli login --device https://proxy.example.com       # over SSH: a URL and a code for any device`,
		Args: cmdutil.MaximumArgs(1, "one server URL (e.g. https://proxy.example.com)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.ServerURL = args[0]
			}
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return loginRun(opts)
		},
	}
}

func loginRun(opts *LoginOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	server := opts.ServerURL
	if server == "" {
		// No URL: the remembered server, with its remembered TLS options.
		u, err := opts.Factory.ResolveServer("", "pomerium-cli login https://proxy.example.com")
		if err != nil {
			return err
		}
		server = u.String()
	}
	u, a, err := opts.Factory.ServerAuthenticator(server)
	if err != nil {
		return err
	}
	// Passing the cached token as stale forces a fresh sign-in.
	stale, err := a.CachedToken(ctx, u)
	if err != nil {
		return fmt.Errorf("reading the cached token for %s: %w", u.Host, err)
	}
	tok, err := a.SignIn(ctx, u, stale, nil)
	if err != nil {
		return fmt.Errorf("signing in to %s: %w", u.Host, err)
	}
	if err := opts.Factory.SaveLastServer(u.String()); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", termtext.Escape(err.Error()))
	}
	if ti, ok := cmdutil.ParseTokenInfo(tok); ok && ti.Who() != "" {
		fmt.Fprintf(opts.IO.ErrOut, "Signed in to %s as %s\n", termtext.Escape(u.Host), termtext.Escape(ti.Who()))
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "Signed in to %s\n", termtext.Escape(u.Host))
	}
	// The routes list, cached now, gives route names and completion to the
	// next commands; it is a convenience, so a failure is only a note.
	pctx, cancel := context.WithTimeout(ctx, prefetchTimeout)
	defer cancel()
	if err := opts.Factory.PrefetchRoutes(pctx, u); err != nil && opts.Factory.Opts.Verbose {
		fmt.Fprintf(opts.IO.ErrOut, "note: the routes list was not cached: %s\n", termtext.Escape(err.Error()))
	}
	return nil
}

// prefetchTimeout bounds the routes fetch after a sign-in.
const prefetchTimeout = 15 * time.Second
