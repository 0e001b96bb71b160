// Package authflow signs a user in to a Pomerium-style proxy through the
// browser (programmatic login with a loopback callback, see
// shared/PROTOCOL.md) and caches the resulting tokens in the OS keyring,
// falling back to a 0600 file where no keyring service runs.
//
//	tlsCfg, err := tlsconfig.Options{CAFile: "ca.pem"}.Config()
//	a := &authflow.Authenticator{
//		Flow:  &authflow.Flow{HTTPClient: authflow.NewHTTPClient(tlsCfg), OpenURL: authflow.BrowserOpener(), Stderr: os.Stderr},
//		Store: authflow.NewCache(authflow.CacheOptions{Stderr: os.Stderr}),
//	}
//	tok, err := a.Token(ctx, proxyURL, nil) // cached, or signs in once
//
// One Authenticator per process: it is what makes concurrent callers
// (many tunnel connections, a routes refresh) share one sign-in.
package authflow

import (
	"errors"
	"io"
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
	// Getenv reads the environment (DBUS_SESSION_BUS_ADDRESS); nil means
	// os.Getenv.
	Getenv func(string) string
}

// ErrServiceAccountRejected is returned by SignIn when a service account
// is configured: there is no browser sign-in to fall back to.
var ErrServiceAccountRejected = errors.New("service account token rejected")
