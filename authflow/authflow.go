// Package authflow signs a user in to a Pomerium-style proxy through the
// browser (programmatic login with a loopback callback, see
// shared/PROTOCOL.md) and caches the resulting tokens in the OS keyring,
// falling back to a 0600 file where no keyring service runs.
//
//	a := &authflow.Authenticator{Flow: &authflow.Flow{...}, Store: authflow.NewCache(authflow.CacheOptions{})}
//	tok, err := a.Token(ctx, proxyURL)
package authflow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"
)

// ErrNotFound is returned by a TokenStore when nothing is stored for a key.
var ErrNotFound = errors.New("no cached token")

// TokenStore keeps one token per proxy host.
type TokenStore interface {
	Load(host string) (string, error) // ErrNotFound when absent
	Save(host, token string) error
	Delete(host string) error
	Hosts() ([]string, error) // every host with a stored token (for logout --all)
}

// CacheOptions configures NewCache. Zero values pick defaults.
type CacheOptions struct {
	Service string    // keyring service name; default "pomerium-cli"
	Dir     string    // fallback dir; default os.UserCacheDir()/pomerium-cli
	Stderr  io.Writer // where the one-time fallback notice goes
	// NoKeyring forces the file store (tests, --no-keyring).
	NoKeyring bool
}

// Cache is the default TokenStore: keyring first, file fallback.
type Cache struct{}

// NewCache returns the keyring-backed cache with its file fallback.
func NewCache(opts CacheOptions) *Cache { panic("not implemented") }

// Flow runs one browser sign-in.
type Flow struct {
	HTTPClient *http.Client // for the login API; carries TLS options and proxy
	// OpenURL opens the sign-in URL (github.com/pkg/browser or --browser-cmd);
	// nil opens nothing (--no-browser). The URL is printed on Stderr always.
	OpenURL func(ctx context.Context, signInURL string) error
	Stderr  io.Writer
	Timeout time.Duration // default 5 minutes
}

// Login asks the proxy's login API for a sign-in URL, opens it, and waits
// for pomerium_jwt on a 127.0.0.1 callback. notify (may be nil) receives
// the sign-in URL.
func (f *Flow) Login(ctx context.Context, proxy *url.URL, notify func(string)) (string, error) {
	panic("not implemented")
}

// Authenticator combines a Flow and a TokenStore, and makes concurrent
// callers share one sign-in. It implements tunnel.Authenticator and
// portalclient's authenticator.
type Authenticator struct {
	Flow  *Flow
	Store TokenStore
	// ServiceAccount, when set, is always the token; no browser is used.
	ServiceAccount string
}

// CachedToken returns a stored, unexpired token or "".
func (a *Authenticator) CachedToken(ctx context.Context, proxy *url.URL) (string, error) {
	panic("not implemented")
}

// SignIn: see tunnel.Authenticator.
func (a *Authenticator) SignIn(ctx context.Context, proxy *url.URL, stale string, notify func(string)) (string, error) {
	panic("not implemented")
}

// Token returns the cached token, or signs in.
func (a *Authenticator) Token(ctx context.Context, proxy *url.URL, notify func(string)) (string, error) {
	panic("not implemented")
}

// Logout drops the token for proxy.
func (a *Authenticator) Logout(proxy *url.URL) error { panic("not implemented") }

// HostKey is the cache key for a proxy URL: its host, with the port when
// it is not 443. One sign-in serves every route of a cluster.
func HostKey(proxy *url.URL) string { panic("not implemented") }
