package gui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// Account is one known server and who is signed in there, read from the
// cached token's claims (for display only: the token itself is never
// shown or logged).
type Account struct {
	Server  *url.URL          // https://host[:port]
	Host    string            // authflow.HostKey: the token cache's key
	TLS     tlsconfig.Options // how to reach it: a connection's, else the profile's
	Who     string            // the token's email (else subject); "" when none
	Expired bool              // a token is cached but past its expiry
	Expires time.Time         // zero when the token does not say
}

// SignedIn reports whether a token that has not expired is cached.
func (a Account) SignedIn() bool { return a.Who != "" && !a.Expired }

// Accounts lists the known servers, each once: the proxies of the saved
// connections (in their order), then pomerium-cli's remembered servers,
// with who is signed in at each. Reading the token cache may touch the
// keyring, so call it off the UI goroutine.
func (c *Controller) Accounts(profiles []cmdutil.ServerProfile) []Account {
	var out []Account
	add := func(u *url.URL, opts tlsconfig.Options) {
		host := authflow.HostKey(u)
		if slices.ContainsFunc(out, func(a Account) bool { return a.Host == host }) {
			return
		}
		out = append(out, Account{Server: &url.URL{Scheme: "https", Host: u.Host}, Host: host, TLS: opts})
	}
	for _, conn := range c.Connections() {
		if dst, err := conn.ParseDestination(); err == nil && dst.Proxy != nil {
			add(dst.Proxy, conn.TLS)
		}
	}
	for _, p := range profiles {
		if u, err := cmdutil.ParseServerURL(p.URL); err == nil {
			add(u, p.TLS())
		}
	}
	for i := range out {
		out[i].readToken(c.Tokens)
	}
	return out
}

func (a *Account) readToken(store authflow.TokenStore) {
	if store == nil {
		return
	}
	tok, err := store.Load(a.Host)
	if err != nil || tok == "" {
		return
	}
	who := "someone (the token names nobody)"
	if ti, ok := cmdutil.ParseTokenInfo(tok); ok {
		if w := ti.Who(); w != "" {
			who = w
		}
		a.Expires = ti.Expiry
	}
	a.Who = termtext.Escape(who) // server data: one plain line
	a.Expired = authflow.Expired(tok)
}

// SignInTo runs a browser sign-in at account's server (the controller's
// OpenURL opens the page; notify gets its URL too) and caches the token,
// shared with the connections to that server and with pomerium-cli.
func (c *Controller) SignInTo(ctx context.Context, acct Account, notify func(signInURL string)) error {
	cfg, err := acct.TLS.Config()
	if err != nil {
		return fmt.Errorf("tls options for %s: %w", acct.Host, err)
	}
	if _, err := c.authFor(acct.TLS, cfg).SignIn(ctx, acct.Server, "", notify); err != nil {
		return fmt.Errorf("signing in to %s: %w", acct.Host, err)
	}
	return nil
}

// SignOut does what `pomerium-cli logout SERVER` does: asks the server to
// revoke the cached token (so a copy left anywhere stops working), then
// forgets it here and in every sign-in's memory. A server that cannot
// revoke (real Pomerium) only loses the local copy; a revocation that
// fails is returned as warning, and the token is forgotten anyway.
func (c *Controller) SignOut(ctx context.Context, acct Account) (warning string, err error) {
	tok, err := c.Tokens.Load(acct.Host)
	if errors.Is(err, authflow.ErrNotFound) {
		tok, err = "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the token of %s: %w", acct.Host, err)
	}
	if tok != "" {
		cfg, err := acct.TLS.Config()
		if err == nil {
			err = authflow.Revoke(ctx, authflow.NewHTTPClient(cfg), acct.Server, tok)
		}
		if err != nil && !errors.Is(err, authflow.ErrRevokeUnsupported) {
			warning = "the server could not revoke the token (" + err.Error() + "); it is forgotten here anyway"
		}
	}
	c.mu.Lock()
	auths := make([]*authflow.Authenticator, 0, len(c.auths))
	for _, a := range c.auths {
		auths = append(auths, a)
	}
	c.mu.Unlock()
	for _, a := range auths {
		if err := a.Logout(acct.Server); err != nil && !errors.Is(err, authflow.ErrNotFound) {
			return warning, fmt.Errorf("forgetting the token of %s: %w", acct.Host, err)
		}
	}
	if err := c.Tokens.Delete(acct.Host); err != nil && !errors.Is(err, authflow.ErrNotFound) {
		return warning, fmt.Errorf("forgetting the token of %s: %w", acct.Host, err)
	}
	return warning, nil
}

// accountText is an account's status line.
func accountText(a Account) string {
	switch {
	case a.SignedIn():
		return "signed in as " + strings.TrimSpace(a.Who)
	case a.Expired:
		return "session expired (was " + strings.TrimSpace(a.Who) + ")"
	}
	return "not signed in"
}
