// Package cmdutil holds what every pomerium-cli command shares: the
// Factory of lazily built dependencies (TLS, HTTP client, token cache,
// authenticator, portal client, tunnel config, saved connections), the
// IO streams, and the usage-error type that cli.Run maps to exit code 2.
//
//	f := &cmdutil.Factory{IO: cmdutil.System()}
//	f.AddGlobalFlags(root.PersistentFlags())
//	pc, err := f.PortalClient() // after flags are parsed
package cmdutil

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// EnvServiceAccount holds a service account token (like --service-account).
const EnvServiceAccount = "POMERIUM_SERVICE_ACCOUNT"

// EnvNoKeyring=1 forces the 0600 file token store (like --no-keyring).
const EnvNoKeyring = "POMERIUM_CLI_NO_KEYRING"

// EnvHTTPTimeout caps each call to the portal and the login API, body
// included (default authflow.DefaultHTTPTimeout).
const EnvHTTPTimeout = "POMERIUM_CLI_HTTP_TIMEOUT"

// EnvHTTPStallTimeout fails such a call when nothing arrives for that
// long (default authflow.DefaultStallTimeout).
const EnvHTTPStallTimeout = "POMERIUM_CLI_HTTP_STALL_TIMEOUT"

// DefaultLoginTimeout is how long a browser sign-in may take.
const DefaultLoginTimeout = 5 * time.Minute

// GlobalOptions are the persistent flags every command shares.
type GlobalOptions struct {
	TLS                tlsconfig.Options
	BrowserCmd         string
	NoBrowser          bool
	Device             bool
	LoginTimeout       time.Duration
	ServiceAccount     string
	ServiceAccountFile string
	Verbose            bool
	NoKeyring          bool
}

// Factory builds shared dependencies lazily, after the flags are parsed.
// Commands take what they need; tests set the fields directly.
type Factory struct {
	IO   *IOStreams
	Opts GlobalOptions

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// ConfigDir holds the last-server file; "" means
	// os.UserConfigDir()/pomerium-cli.
	ConfigDir string
	// CacheDir is the token file fallback dir; "" means the authflow default.
	CacheDir string
	// OpenURL, when set, replaces the browser opener (tests).
	OpenURL func(ctx context.Context, url string) error
	// Tokens replaces the token cache (tests); nil builds authflow's
	// keyring cache with its file fallback.
	Tokens authflow.TokenStore
	// Now is the clock of profiles' last use; nil means time.Now.
	Now func() time.Time
	// Target is the server the running command talks to; commands set it
	// so cli.Run can name it in hints ("sign in again with ...").
	Target string
	// AdaptProcs, when set, runs while a command serves tunnels: cli.Main
	// sets adaptprocs.Start, which keeps the process on one P while it is
	// lightly loaded. Tests leave it nil, so a test process keeps its P
	// count.
	AdaptProcs func(context.Context) (stop func())
	// OnRun, when set, is called once a command is about to run (not for
	// help or a usage error): cli.Main starts watching signals there.
	OnRun func()

	mu         sync.Mutex
	tlsCfg     *tls.Config
	httpClient *http.Client
	store      authflow.TokenStore
	auth       *authflow.Authenticator
	// authTLS holds the authenticators for TLS options other than the
	// flags (saved connections with their own CA), one per option set so
	// a sign-in for such a connection dials the proxy as its tunnel does.
	authTLS map[tlsconfig.Options]*authflow.Authenticator
}

// ServeProcs starts AdaptProcs, if set, for a command that serves
// tunnels until it returns; stop ends it and waits for the P count to be
// the runtime's default again.
func (f *Factory) ServeProcs(ctx context.Context) (stop func()) {
	if f.AdaptProcs == nil {
		return func() {}
	}
	return f.AdaptProcs(ctx)
}

// AddGlobalFlags registers the shared flags (persistent on the root command).
// Names match the real pomerium-cli where it has them.
func (f *Factory) AddGlobalFlags(fs *pflag.FlagSet) {
	o := &f.Opts
	fs.BoolVar(&o.TLS.DisableVerification, "disable-tls-verification", false, "disable TLS verification of the proxy (insecure)")
	fs.StringVar(&o.TLS.CAFile, "alternate-ca-path", "", "path to a PEM `file` of CA certificates to trust for the proxy")
	fs.StringVar(&o.TLS.CACert, "ca-cert", "", "CA certificate to trust, PEM or base64 of PEM")
	fs.StringVar(&o.TLS.ClientCertFile, "client-cert", "", "PEM `file` of a client certificate for mutual TLS")
	fs.StringVar(&o.TLS.ClientKeyFile, "client-key", "", "PEM `file` of the client certificate's key")
	fs.StringVar(&o.BrowserCmd, "browser-cmd", "", "`command` that opens the sign-in URL (the URL is its last argument)")
	fs.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL and open nothing")
	fs.BoolVar(&o.Device, "device", false, "sign in with a device code: print a URL and a code to confirm on any device (no local browser or callback; for SSH and containers)")
	fs.DurationVar(&o.LoginTimeout, "login-timeout", DefaultLoginTimeout, "how long to wait for a browser sign-in")
	fs.StringVar(&o.ServiceAccount, "service-account", "", "service account `token` to use instead of signing in (env "+EnvServiceAccount+")")
	fs.StringVar(&o.ServiceAccountFile, "service-account-file", "", "`file` holding a service account token")
	fs.BoolVar(&o.Verbose, "verbose", false, "print more detail: connection events and error chains")
	fs.BoolVar(&o.NoKeyring, "no-keyring", false, "keep tokens in a 0600 file instead of the OS keyring (env "+EnvNoKeyring+"=1)")
	_ = fs.MarkHidden("no-keyring")
}

// NewRootCommand is the bare `pomerium-cli` root that every command runs
// under: f's streams, the shared flags, flag mistakes as UsageErrors and
// errors left to cli.Run to print. cli.NewCmdRoot dresses it; tests run a
// single command under it as users do.
func (f *Factory) NewRootCommand() *cobra.Command {
	root := &cobra.Command{Use: "pomerium-cli", SilenceUsage: true, SilenceErrors: true}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	f.AddGlobalFlags(root.PersistentFlags())
	return root
}

func (f *Factory) getenv(k string) string {
	if f.Getenv != nil {
		return f.Getenv(k)
	}
	return os.Getenv(k)
}

// TLSOptions are the TLS flags as given.
func (f *Factory) TLSOptions() tlsconfig.Options { return f.Opts.TLS }

// TLSConfig builds the TLS config from the flags once.
func (f *Factory) TLSConfig() (*tls.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tlsConfigLocked()
}

func (f *Factory) tlsConfigLocked() (*tls.Config, error) {
	if f.tlsCfg != nil {
		return f.tlsCfg, nil
	}
	cfg, err := f.Opts.TLS.Config()
	if err != nil {
		return nil, err
	}
	f.tlsCfg = cfg
	return cfg, nil
}

// HTTPClient is the client for the login and routes APIs: the TLS flags,
// HTTPS_PROXY/NO_PROXY, HTTP/2 when offered.
func (f *Factory) HTTPClient() (*http.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.httpClientLocked()
}

func (f *Factory) httpClientLocked() (*http.Client, error) {
	if f.httpClient != nil {
		return f.httpClient, nil
	}
	cfg, err := f.tlsConfigLocked()
	if err != nil {
		return nil, err
	}
	t, err := f.httpOptions()
	if err != nil {
		return nil, err
	}
	f.httpClient = authflow.NewHTTPClientOptions(cfg, t)
	return f.httpClient, nil
}

// httpOptions shape portal and login API calls: HTTP/1.1 only (a CLI
// process makes a call or two, see authflow.HTTPOptions), bounded by
// POMERIUM_CLI_HTTP_TIMEOUT and POMERIUM_CLI_HTTP_STALL_TIMEOUT.
func (f *Factory) httpOptions() (authflow.HTTPOptions, error) {
	t := authflow.HTTPOptions{HTTP1Only: true}
	for _, e := range []struct {
		name string
		dst  *time.Duration
	}{{EnvHTTPTimeout, &t.Overall}, {EnvHTTPStallTimeout, &t.Stall}} {
		v := f.getenv(e.name)
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return t, fmt.Errorf("%s=%q: want a positive duration such as 30s or 2m", e.name, v)
		}
		*e.dst = d
	}
	return t, nil
}

// TokenStore is the keyring cache with its 0600 file fallback.
func (f *Factory) TokenStore() authflow.TokenStore {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenStoreLocked()
}

func (f *Factory) tokenStoreLocked() authflow.TokenStore {
	if f.store == nil && f.Tokens != nil {
		f.store = f.Tokens
	}
	if f.store == nil {
		f.store = authflow.NewCache(authflow.CacheOptions{
			Dir:       f.CacheDir,
			Stderr:    f.IO.ErrOut,
			NoKeyring: f.Opts.NoKeyring || f.getenv(EnvNoKeyring) == "1",
			Getenv:    f.getenv,
		})
	}
	return f.store
}

// ServiceAccountToken is the token from --service-account,
// --service-account-file or POMERIUM_SERVICE_ACCOUNT ("" when none).
func (f *Factory) ServiceAccountToken() (string, error) {
	if f.Opts.ServiceAccount != "" {
		return strings.TrimSpace(f.Opts.ServiceAccount), nil
	}
	if p := f.Opts.ServiceAccountFile; p != "" {
		b, err := bounded.ReadFileOrPipe(p, 64<<10)
		if err != nil {
			return "", fmt.Errorf("reading --service-account-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("--service-account-file %s is empty", p)
		}
		return tok, nil
	}
	return strings.TrimSpace(f.getenv(EnvServiceAccount)), nil
}

// Authenticator signs in through the browser (or uses the service account)
// and caches tokens; concurrent callers share one sign-in, so it is built
// once per process.
func (f *Factory) Authenticator() (*authflow.Authenticator, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.auth != nil {
		return f.auth, nil
	}
	hc, err := f.httpClientLocked()
	if err != nil {
		return nil, err
	}
	a, err := f.newAuthenticatorLocked(hc)
	if err != nil {
		return nil, err
	}
	f.auth = a
	return a, nil
}

// ServerAuthenticator parses the server URL a command was given, makes it
// the command's Target (for hints) and returns it with the authenticator.
func (f *Factory) ServerAuthenticator(server string) (*url.URL, *authflow.Authenticator, error) {
	u, err := ParseServerURL(server)
	if err != nil {
		return nil, nil, err
	}
	if err := f.UseServer(u); err != nil {
		return nil, nil, err
	}
	a, err := f.Authenticator()
	if err != nil {
		return nil, nil, err
	}
	return u, a, nil
}

// AuthenticatorTLS is Authenticator for TLS options other than the flags:
// the login API is reached with those options, so a saved connection
// trusting its own CA can sign in. The token cache is shared (tokens are
// keyed by the proxy's host), and one is built per option set so
// concurrent tunnels of a connection still share one sign-in.
func (f *Factory) AuthenticatorTLS(opts tlsconfig.Options) (*authflow.Authenticator, error) {
	if opts == f.Opts.TLS {
		return f.Authenticator()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.authTLS[opts]; a != nil {
		return a, nil
	}
	cfg, err := opts.Config()
	if err != nil {
		return nil, err
	}
	t, err := f.httpOptions()
	if err != nil {
		return nil, err
	}
	a, err := f.newAuthenticatorLocked(authflow.NewHTTPClientOptions(cfg, t))
	if err != nil {
		return nil, err
	}
	if f.authTLS == nil {
		f.authTLS = make(map[tlsconfig.Options]*authflow.Authenticator)
	}
	f.authTLS[opts] = a
	return a, nil
}

func (f *Factory) newAuthenticatorLocked(hc *http.Client) (*authflow.Authenticator, error) {
	sa, err := f.ServiceAccountToken()
	if err != nil {
		return nil, err
	}
	timeout := f.Opts.LoginTimeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	return &authflow.Authenticator{
		Flow: &authflow.Flow{
			HTTPClient: hc,
			OpenURL:    f.browserOpener(),
			Stderr:     f.IO.ErrOut,
			Timeout:    timeout,
			Device:     f.Opts.Device,
			NoTerminal: !f.IO.InTTY,
			Spinner:    f.spinnerOut(),
		},
		Store:          f.tokenStoreLocked(),
		ServiceAccount: sa,
	}, nil
}

// PortalClient fetches routes, signing in when the proxy asks.
func (f *Factory) PortalClient() (*portalclient.Client, error) {
	hc, err := f.HTTPClient()
	if err != nil {
		return nil, err
	}
	a, err := f.Authenticator()
	if err != nil {
		return nil, err
	}
	return &portalclient.Client{HTTPClient: hc, Auth: a}, nil
}

// TunnelConfig is the tunnel.Config for dest using the global TLS flags,
// the shared authenticator and HTTPS_PROXY/NO_PROXY. Set OnEvent yourself.
func (f *Factory) TunnelConfig(dest tunnel.Destination) (tunnel.Config, error) {
	return f.TunnelConfigTLS(dest, f.Opts.TLS)
}

// DestinationTunnelConfig is TunnelConfig for a destination given on the
// command line (tcp, udp): a proxy it names brings its remembered TLS
// options first (UseServer; TLS flags still win).
func (f *Factory) DestinationTunnelConfig(dest tunnel.Destination) (tunnel.Config, error) {
	if dest.Proxy != nil {
		if err := f.UseServer(dest.Proxy); err != nil {
			return tunnel.Config{}, err
		}
	}
	return f.TunnelConfig(dest)
}

// TunnelConfigTLS is TunnelConfig with TLS options other than the flags
// (a saved connection's own settings), used for the tunnel and for the
// sign-in it may need alike.
func (f *Factory) TunnelConfigTLS(dest tunnel.Destination, opts tlsconfig.Options) (tunnel.Config, error) {
	var (
		cfg *tls.Config
		err error
	)
	if opts == f.Opts.TLS {
		cfg, err = f.TLSConfig()
	} else {
		cfg, err = opts.Config()
	}
	if err != nil {
		return tunnel.Config{}, err
	}
	a, err := f.AuthenticatorTLS(opts)
	if err != nil {
		return tunnel.Config{}, err
	}
	return tunnel.Config{
		Destination: dest,
		TLSConfig:   cfg,
		Auth:        a,
		Proxy:       http.ProxyFromEnvironment,
	}, nil
}

// ConnectionStore is the saved connections file shared with the desktop
// app ($POMERIUM_CLI_CONNECTIONS overrides where it lives).
func (f *Factory) ConnectionStore() *connections.Store {
	if p := f.getenv(connections.EnvPath); p != "" {
		return connections.NewStore(p)
	}
	return connections.NewStore(connections.DefaultPath())
}

// UsageError is a mistake in how the command was called (missing argument,
// unknown flag); cli.Run prints the usage hint and exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// IsUsageError reports whether err is a UsageError.
func IsUsageError(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}
