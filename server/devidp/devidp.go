// Package devidp is the built-in OpenID provider of pomerium-server --dev,
// built on github.com/zitadel/oidc/v3/pkg/op: discovery, JWKS, authorize
// and token endpoints with PKCE, and a sign-in page listing dev users.
//
// The provider lives under its issuer's path. With the issuer
// https://127.0.0.1:8443/.pomerium/dev-idp the server mounts it as
//
//	p, err := devidp.New(devidp.Options{
//		Issuer:       "https://127.0.0.1:8443/.pomerium/dev-idp",
//		ClientID:     "porthole", ClientSecret: secret,
//		RedirectURIs: []string{"https://127.0.0.1:8443/.pomerium/callback"},
//	})
//	mux.Handle("/.pomerium/dev-idp/", p.Handler())
//
// and a relying party discovers it at <issuer>/.well-known/openid-configuration.
package devidp

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a dev user.
type User struct {
	Email  string
	Name   string
	Groups []string
}

// DefaultUsers are dev@example.com (group admins), guest@example.com
// and groups@example.com, who is in ManyGroups: 60 groups named by
// 36-character ids, as Entra ID names them, which is more than a
// claims-carrying cookie can hold.
var DefaultUsers = []User{
	{Email: "dev@example.com", Name: "Dev User", Groups: []string{"admins"}},
	{Email: "guest@example.com", Name: "Guest User"},
	{Email: "groups@example.com", Name: "Many Groups", Groups: ManyGroups()},
}

// ManyGroups is the 60 group ids of groups@example.com, stable across
// starts (GUID-shaped, like Entra ID's).
func ManyGroups() []string {
	out := make([]string, 60)
	for i := range out {
		out[i] = fmt.Sprintf("%08x-1d2e-4f3a-9b4c-%012x", 0x5eed0000+i, 0xa11c0de0000+i)
	}
	return out
}

// Options configure the provider.
type Options struct {
	// Issuer is the absolute issuer URL, e.g. https://127.0.0.1:8443/.pomerium/dev-idp
	// The handler must be mounted at the issuer's path (prefix).
	Issuer string
	Users  []User
	// AutoLogin, when set, signs that user in without showing the page.
	AutoLogin string
	// Clients maps client_id to client_secret; redirect URIs are checked
	// against RedirectURIs.
	ClientID     string
	ClientSecret string
	RedirectURIs []string
	// PostLogoutRedirectURIs are where end_session may send the browser
	// back to (post_logout_redirect_uri); others are refused.
	PostLogoutRedirectURIs []string
	// TokenTTL is the lifetime of access and ID tokens (0: an hour).
	// Tests shorten it to see refreshes; refresh tokens live until the
	// user is disabled or signs out.
	TokenTTL time.Duration
	// Logger receives the provider library's request errors (never tokens);
	// nil means slog.Default().
	Logger *slog.Logger
}

// Provider is the running provider.
type Provider struct {
	issuer    string
	prefix    string // issuer path without trailing slash, "" at the root
	users     []User
	autoLogin string // subject of the auto-login user, "" for the page
	store     *storage
	op        *op.Provider
	handler   http.Handler
}

// New builds the provider (fresh signing key each start).
func New(opts Options) (*Provider, error) {
	issuer := strings.TrimSuffix(opts.Issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("dev provider issuer %q: want an absolute URL without query, like https://127.0.0.1:8443/.pomerium/dev-idp", opts.Issuer)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	opOpts := []op.Option{op.WithLogger(logger.With("component", "dev-idp"))}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		opOpts = append(opOpts, op.WithAllowInsecure())
	default:
		return nil, fmt.Errorf("dev provider issuer %q: want https (http only on a loopback host)", opts.Issuer)
	}
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, fmt.Errorf("dev provider: client id and client secret are required")
	}
	if len(opts.RedirectURIs) == 0 {
		return nil, fmt.Errorf("dev provider: at least one redirect URI is required")
	}
	users := opts.Users
	if len(users) == 0 {
		users = DefaultUsers
	}
	bySubject := make(map[string]User, len(users))
	for _, usr := range users {
		if !strings.Contains(usr.Email, "@") {
			return nil, fmt.Errorf("dev provider user %q: email must look like name@domain", usr.Email)
		}
		sub := subjectFor(usr.Email)
		if _, dup := bySubject[sub]; dup {
			return nil, fmt.Errorf("dev provider user %q: listed twice", usr.Email)
		}
		bySubject[sub] = usr
	}
	p := &Provider{issuer: issuer, prefix: strings.TrimSuffix(u.Path, "/"), users: users}
	if opts.AutoLogin != "" {
		sub := subjectFor(opts.AutoLogin)
		if _, ok := bySubject[sub]; !ok {
			return nil, fmt.Errorf("dev provider auto-login %q: no such dev user (known: %s)", opts.AutoLogin, emails(users))
		}
		p.autoLogin = sub
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	p.store = &storage{
		client: &client{
			id:           opts.ClientID,
			secret:       opts.ClientSecret,
			redirectURIs: opts.RedirectURIs,
			loginURL:     func(id string) string { return issuer + loginPath + "?authRequestID=" + url.QueryEscape(id) },
		},
		users:    bySubject,
		key:      key,
		now:      time.Now,
		ttl:      opts.TokenTTL,
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		tokens:   map[string]accessToken{},
		refresh:  map[string]refreshToken{},
		disabled: map[string]bool{},
	}
	if p.store.ttl <= 0 {
		p.store.ttl = accessTokenTTL
	}
	p.store.client.postLogout = opts.PostLogoutRedirectURIs
	p.store.client.ttl = p.store.ttl
	cfg := &op.Config{
		CodeMethodS256: true,
		// RP-initiated logout without a post_logout_redirect_uri lands here.
		DefaultLogoutRedirectURI: issuer + signedOutPath,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          []string{"openid", "email", "profile", "groups", "offline_access"},
		SupportedClaims:          []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "email", "email_verified", "name", "preferred_username", "groups"},
	}
	// The key encrypts opaque access tokens; it only has to live as long as
	// the process, like the signing key.
	if _, err := rand.Read(cfg.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("generating token key: %w", err)
	}
	p.op, err = op.NewOpenIDProvider(issuer, cfg, p.store, opOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating dev provider: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(loginPath, p.login)
	mux.HandleFunc(signedOutPath, signedOut)
	mux.Handle("/", p.op)
	if p.prefix == "" {
		p.handler = mux
	} else {
		p.handler = http.StripPrefix(p.prefix, mux)
	}
	return p, nil
}

// Handler serves every endpoint under the issuer path (mount it with the
// full path; it does its own prefix handling).
func (p *Provider) Handler() http.Handler { return p.handler }

// SetDisabled disables (or enables again) a user while the provider runs:
// a disabled user cannot sign in, their refresh tokens and access tokens
// stop working, as when an administrator blocks an account.
func (p *Provider) SetDisabled(email string, disabled bool) error {
	sub := subjectFor(email)
	if _, ok := p.store.userBySubject(sub); !ok {
		return fmt.Errorf("no dev user %q (known: %s)", email, emails(p.users))
	}
	p.store.setDisabled(sub, disabled)
	return nil
}

// SignOuts is how many times the user's session was ended through the
// end_session endpoint with a valid id_token_hint.
func (p *Provider) SignOuts(email string) int { return p.store.signOuts(subjectFor(email)) }

// Issuer is the issuer URL as it appears in discovery and tokens (without a
// trailing slash).
func (p *Provider) Issuer() string { return p.issuer }

// callbackURL is where a finished sign-in goes back into the op package,
// which then redirects to the client with a code.
func (p *Provider) callbackURL(id string) string {
	return p.issuer + "/authorize/callback?id=" + url.QueryEscape(id)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func emails(users []User) string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Email
	}
	return strings.Join(out, ", ")
}
