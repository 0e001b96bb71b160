// Package config loads pomerium-server's YAML configuration, with
// Pomerium's key names, strictly: unknown keys and invalid values stop
// start-up with an error naming the key (and route) and what is allowed.
package config

import (
	"net/url"
	"time"

	"github.com/porthole-dev/porthole/server/policy"
)

// Config is the whole server configuration.
type Config struct {
	Address                             string
	CertificateFile                     string
	CertificateKeyFile                  string
	IdpProviderURL                      string
	IdpClientID                         string
	IdpClientSecret                     string
	IdpScopes                           []string
	SharedSecret                        string // base64, 32 bytes
	CookieSecret                        string // base64, 32 bytes
	CookieExpire                        time.Duration
	ProgrammaticRedirectDomainWhitelist []string
	Routes                              []Route
}

// Upstream is one `to` entry.
type Upstream struct {
	URL    *url.URL
	Weight int // default 1
}

// Route is one entry of `routes:`, validated, with derived fields.
type Route struct {
	From                             string
	To                               []Upstream
	Name                             string
	Description                      string
	LogoURL                          string
	Prefix                           string
	Path                             string
	Policy                           policy.Policy // as written
	AllowPublicUnauthenticatedAccess bool
	AllowAnyAuthenticatedUser        bool
	AllowedUsers                     []string
	AllowedDomains                   []string
	AllowedIDPClaims                 map[string][]any
	PassIdentityHeaders              bool
	AllowWebsockets                  bool
	Timeout                          time.Duration // 0: default 30s
	IdleTimeout                      time.Duration // 0: default 5m

	// Derived by validation.
	FromURL *url.URL
	Type    string // "http", "tcp" or "udp"
	// Authority is what a CONNECT for this route asks for (tcp/udp only):
	// host:port from the host form, or the path's host:port in the path
	// form (tcp+https://proxy:8443/db.internal:5432 -> db.internal:5432).
	Authority string
	PathForm  bool
}

// EffectivePolicy is Policy with the route shortcuts OR-ed in as one allow rule.
func (r *Route) EffectivePolicy() policy.Policy { panic("not implemented") }

// Load reads and validates the YAML file at path.
func Load(path string) (*Config, error) { panic("not implemented") }

// Parse validates YAML bytes.
func Parse(data []byte) (*Config, error) { panic("not implemented") }
