// Package auth is `pomerium-cli auth`: print a valid token for scripts,
// signing in when none is cached.
package auth

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// AuthOptions are the parsed arguments of `auth`.
type AuthOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	ServerURL string
}

// NewCmdAuth builds `auth <server-url>`. runF replaces authRun in tests.
func NewCmdAuth(f *cmdutil.Factory, runF func(*AuthOptions) error) *cobra.Command {
	opts := &AuthOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "auth <server-url>",
		Short: "Print a valid token for the proxy on stdout, signing in if needed",
		Long: `Print the cached token for the proxy on stdout, for scripts that call the
proxy themselves. The proxy checks the cached token first; when there is
none, or the proxy no longer accepts it, sign in through the browser.
The token is a credential: do not log it.`,
		Example: `  curl -H "Authorization: Pomerium $(pomerium-cli auth https://proxy.example.com)" https://app.example.com`,
		Args:    cmdutil.ExactArgs(1, "server URL (e.g. https://proxy.example.com)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServerURL = args[0]
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return authRun(opts)
		},
	}
}

func authRun(opts *AuthOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	u, a, err := opts.Factory.ServerAuthenticator(opts.ServerURL)
	if err != nil {
		return err
	}
	// The proxy checks the cached token first (GET /healthz): a token it
	// no longer accepts is replaced by a fresh sign-in, never printed.
	tok, err := a.ValidToken(ctx, u, nil)
	if err != nil {
		return fmt.Errorf("getting a token for %s: %w", u.Host, err)
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}
