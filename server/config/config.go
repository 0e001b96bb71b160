// Package config loads pomerium-server's YAML configuration, with
// Pomerium's key names, strictly: unknown keys and invalid values stop
// start-up with an error naming the key (and route) and what is allowed.
//
//	cfg, err := config.Load("/etc/pomerium/config.yaml")
//	if err != nil {
//		// e.g. routes[2] (from tcp+https://db:5432): to: scheme must be tcp for a tcp+https route
//	}
//	for _, r := range cfg.Routes {
//		decision := r.EffectivePolicy().Evaluate(identity)
//	}
package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/porthole-dev/porthole/server/policy"
)

// Defaults the server applies when a setting is left out (the zero value
// in Config and Route).
const (
	DefaultAddress      = ":443"
	DefaultCookieExpire = 14 * time.Hour
	DefaultTimeout      = 30 * time.Second
	DefaultIdleTimeout  = 5 * time.Minute
)

// DefaultScopes are the OIDC scopes requested when idp_scopes is not set.
// Unlike Pomerium's default there is no offline_access: the server keeps
// no refresh tokens, and asking for them fails at providers that refuse
// the scope (Google) or need the grant enabled first (Okta).
var DefaultScopes = []string{"openid", "profile", "email"}

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
	// APIAdmins may call the management API with their session: emails,
	// IdP user ids or group names.
	APIAdmins []string
	Routes    []Route

	Settings         // top_keys.go
	Storage  Storage // data_dir, databroker_storage_*
	Limits   Limits  // timeout_*, max_connections, max_header_bytes
	Authn            // authn.go: authenticate_service_url, signout_redirect_url

	raw map[string]string // top-level values as written (ChangedKeys)
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

	// The Routes reference's settings (route_keys.go decodes them).
	RouteSettings

	// IDKey, when set, stands in for To in the portal id. Only code-built
	// routes set it (never the YAML): the --dev samples, whose upstreams
	// listen on a fresh port on every start, so that their ids stay stable
	// across restarts as PROTOCOL.md promises and a portal import made
	// before a restart still matches.
	IDKey string

	// Derived by validation.
	FromURL *url.URL
	Type    string // "http", "tcp" or "udp"
	// Authority is what a CONNECT for this route asks for (tcp/udp only):
	// host:port from the host form, or the path's host:port in the path
	// form (tcp+https://proxy:8443/db.internal:5432 -> db.internal:5432).
	Authority string
	PathForm  bool

	// Whether timeout / idle_timeout were written in the file, so that an
	// explicit 0s (unlimited) differs from "not set".
	timeoutSet, idleTimeoutSet bool
}

// EffectiveTimeout is the route's request timeout, 0 meaning unlimited:
// timeout when set; unlimited when only idle_timeout is set (Pomerium's
// rule, for long-lived streams); else DefaultTimeout.
func (r *Route) EffectiveTimeout() time.Duration {
	switch {
	case r.timeoutSet || r.Timeout > 0:
		return r.Timeout
	case r.idleTimeoutSet || r.IdleTimeout > 0:
		return 0
	}
	return DefaultTimeout
}

// EffectiveIdleTimeout is how long a connection may carry no data, 0
// meaning unlimited: idle_timeout when set, else DefaultIdleTimeout.
func (r *Route) EffectiveIdleTimeout() time.Duration {
	if r.idleTimeoutSet || r.IdleTimeout > 0 {
		return r.IdleTimeout
	}
	return DefaultIdleTimeout
}

// EffectivePolicy is Policy with the route shortcuts OR-ed in as one allow rule.
func (r *Route) EffectivePolicy() policy.Policy {
	var cs []policy.Criterion
	if r.AllowPublicUnauthenticatedAccess {
		cs = append(cs, policy.Accept())
	}
	if r.AllowAnyAuthenticatedUser {
		cs = append(cs, policy.AuthenticatedUser())
	}
	for _, u := range r.AllowedUsers {
		cs = append(cs, policy.UserIs(u), policy.EmailIs(u))
	}
	for _, d := range r.AllowedDomains {
		cs = append(cs, policy.DomainIs(d))
	}
	for _, name := range slices.Sorted(maps.Keys(r.AllowedIDPClaims)) {
		for _, v := range r.AllowedIDPClaims[name] {
			cs = append(cs, policy.ClaimHas(name, v))
		}
	}
	return r.Policy.Or(policy.AllowAnyOf(cs...))
}

// Load reads and validates the YAML file at path.
func Load(path string) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
