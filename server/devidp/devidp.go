// Package devidp is the built-in OpenID provider of pomerium-server --dev,
// built on github.com/zitadel/oidc/v3/pkg/op: discovery, JWKS, authorize
// and token endpoints with PKCE, and a sign-in page listing dev users.
package devidp

import "net/http"

// User is a dev user.
type User struct {
	Email  string
	Name   string
	Groups []string
}

// DefaultUsers are dev@example.com (group admins) and guest@example.com.
var DefaultUsers = []User{
	{Email: "dev@example.com", Name: "Dev User", Groups: []string{"admins"}},
	{Email: "guest@example.com", Name: "Guest User"},
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
}

// Provider is the running provider.
type Provider struct{}

// New builds the provider (fresh signing key each start).
func New(opts Options) (*Provider, error) { panic("not implemented") }

// Handler serves every endpoint under the issuer path (mount it with the
// full path; it does its own prefix handling).
func (p *Provider) Handler() http.Handler { panic("not implemented") }
