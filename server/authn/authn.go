// Package authn is pomerium-server's sign-in and sessions: the
// authenticate service (the one host the identity provider redirects to,
// at /oauth2/callback), the signed single-use handoff that gives each
// route host its own cookie, sessions kept in the store behind small
// encrypted cookies and revocable CLI tokens, refresh at the identity
// provider, sign-out everywhere, the programmatic login API, device-code
// sign-in (RFC 8628) and service accounts.
//
//	svc, err := authn.New(authn.Options{
//		Store: st, Keys: keys,
//		AuthenticateURL: &url.URL{Scheme: "https", Host: "authenticate.example.com"},
//		IdP: authn.IdPConfig{Issuer: "https://idp.example.com", ClientID: "id", ClientSecret: "secret"},
//		KnownHost: func(host string) bool { return host == "app.example.com" },
//	})
//	go svc.Start(ctx) // provider discovery, in the background
//	if svc.Owns(r) { svc.Handler().ServeHTTP(w, r) }
//	a := svc.Authenticate(r) // a.Session is nil without a valid session
package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/porthole-dev/porthole/server/session"
)

// Cookie names and lifetimes.
const (
	SessionCookie = "_pomerium"
	CSRFCookie    = "_pomerium_csrf"
	stateTTL      = 10 * time.Minute
	handoffTTL    = time.Minute
	// refreshGrace is how long a session outlives its IdP token when the
	// provider cannot be reached to refresh it.
	refreshGrace = 2 * time.Minute
)

// Paths served.
const (
	pathSignIn       = "/.pomerium/sign_in"
	pathCallback     = "/.pomerium/callback"
	pathSignOut      = "/.pomerium/sign_out"
	pathSignedOut    = "/.pomerium/signed_out"
	pathAuthenticate = "/.pomerium/authenticate"
	pathLoginAPI     = "/.pomerium/api/v1/login"
	pathLogoutAPI    = "/.pomerium/api/v1/logout"
	pathDeviceCode   = "/.pomerium/api/v1/device/code"
	pathDeviceToken  = "/.pomerium/api/v1/device/token"
	pathDevice       = "/.pomerium/device"
	// PathOAuth2Callback is the one redirect URI to register at the IdP.
	PathOAuth2Callback = "/oauth2/callback"
)

// Options configure a Service.
type Options struct {
	Store Store
	Keys  *session.Keys
	IdP   IdPConfig
	// AuthenticateURL is authenticate_service_url; nil makes every host
	// sign in for itself (its own /oauth2/callback at the IdP).
	AuthenticateURL *url.URL
	CookieExpire    time.Duration
	// ProgrammaticWhitelist are host names besides loopback that may
	// receive pomerium_jwt.
	ProgrammaticWhitelist []string
	// SignOutRedirectURL is signout_redirect_url: where the browser ends
	// after sign-out (via the IdP's end_session_endpoint when it has one).
	SignOutRedirectURL string
	// KnownHost reports whether this server serves host (host or
	// host:port as in a request): only those receive handoffs.
	KnownHost func(hostport string) bool
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service is sign-in and sessions.
type Service struct {
	opts  Options
	store Store
	keys  *session.Keys
	idp   *idp
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux

	refreshMu  sync.Mutex
	refreshing map[string]*sync.Mutex
	limits     *limiter
}

// New checks opts and builds the service; nothing touches the network
// until Start.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Keys == nil {
		return nil, errors.New("authn: Store and Keys are required")
	}
	if opts.CookieExpire <= 0 {
		opts.CookieExpire = 14 * time.Hour
	}
	if opts.KnownHost == nil {
		opts.KnownHost = func(string) bool { return false }
	}
	s := &Service{opts: opts, store: opts.Store, keys: opts.Keys, log: opts.Logger, now: opts.Now,
		refreshing: map[string]*sync.Mutex{}, limits: newLimiter()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.idp = newIdP(opts.IdP, s.log)
	mux := http.NewServeMux()
	mux.HandleFunc(pathSignIn, s.handleSignIn)
	mux.HandleFunc(pathCallback, s.handleCallback)
	mux.HandleFunc(pathAuthenticate, s.handleAuthenticate)
	mux.HandleFunc(PathOAuth2Callback, s.handleOAuth2Callback)
	mux.HandleFunc(pathSignOut, s.handleSignOut)
	mux.HandleFunc(pathSignedOut, s.handleSignedOut)
	mux.HandleFunc(pathLoginAPI, s.handleLoginAPI)
	mux.HandleFunc(pathLogoutAPI, s.handleLogoutAPI)
	mux.HandleFunc(pathDeviceCode, s.handleDeviceCode)
	mux.HandleFunc(pathDeviceToken, s.handleDeviceToken)
	mux.HandleFunc(pathDevice, s.handleDevicePage)
	s.mux = mux
	return s, nil
}

// Start discovers the identity provider in the background, retrying
// with backoff until it answers or ctx ends.
func (s *Service) Start(ctx context.Context) { go s.idp.run(ctx) }

// Handler serves the sign-in paths (route them here with Owns).
func (s *Service) Handler() http.Handler { return s.mux }

// Owns reports whether r is for one of the paths Handler serves.
func (s *Service) Owns(r *http.Request) bool {
	switch r.URL.Path {
	case pathSignIn, pathCallback, pathSignOut, pathSignedOut, pathAuthenticate,
		pathLoginAPI, pathLogoutAPI, pathDeviceCode, pathDeviceToken, pathDevice:
		return true
	case PathOAuth2Callback:
		return s.isAuthenticateHost(r)
	}
	return false
}

// authHost is the authenticate host (host:port) for r.
func (s *Service) authHost(r *http.Request) string {
	if s.opts.AuthenticateURL != nil {
		return s.opts.AuthenticateURL.Host
	}
	return r.Host
}

func (s *Service) authURL(r *http.Request, path string, q url.Values) string {
	u := url.URL{Scheme: "https", Host: s.authHost(r), Path: path}
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func (s *Service) isAuthenticateHost(r *http.Request) bool {
	return s.opts.AuthenticateURL == nil || strings.EqualFold(r.Host, s.opts.AuthenticateURL.Host) ||
		(s.opts.AuthenticateURL.Port() == "" && strings.EqualFold(hostOnly(r.Host), s.opts.AuthenticateURL.Hostname()))
}

// RedirectURI is the redirect URI to register at the IdP for r.
func (s *Service) RedirectURI(r *http.Request) string { return s.authURL(r, PathOAuth2Callback, nil) }

// RedirectToSignIn sends a browser to sign in and come back to r's page.
func RedirectToSignIn(w http.ResponseWriter, r *http.Request) {
	v := url.Values{"return": {r.URL.RequestURI()}}
	http.Redirect(w, r, pathSignIn+"?"+v.Encode(), http.StatusFound)
}

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(hostport)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

func (s *Service) setSessionCookie(w http.ResponseWriter, r *http.Request, sessionID string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: s.keys.SealCookie(sessionID, hostOnly(r.Host)), Path: "/",
		MaxAge: int(s.opts.CookieExpire.Seconds()), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Path: path, MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Service) setState(w http.ResponseWriter, path string, st session.State) error {
	sealed, err := s.keys.SealState(st, stateTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CSRFCookie, Value: sealed, Path: path, MaxAge: int(stateTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

func (s *Service) readState(r *http.Request, want string) (*session.State, error) {
	c, err := r.Cookie(CSRFCookie)
	if err != nil {
		return nil, errors.New("sign-in state cookie missing or expired; start again")
	}
	st, err := s.keys.OpenState(c.Value)
	if err != nil || want == "" || want != st.State {
		return nil, errors.New("sign-in state does not match (expired or forged); start again")
	}
	return st, nil
}

func (s *Service) internalError(w http.ResponseWriter, what string, err error) {
	s.log.Warn(what, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
