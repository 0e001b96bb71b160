package config

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/policy"
)

const secret32 = "q83vEjRWeJA0VnCHqBI0VniQEjRWeJASNFZ4kBI0Vng=" // 32 bytes

const fullConfig = `
address: 127.0.0.1:8443
certificate_file: /etc/porthole/cert.pem
certificate_key_file: /etc/porthole/key.pem
idp_provider_url: https://accounts.example.com
idp_client_id: porthole
idp_client_secret: s3cret
idp_scopes: [openid, email, profile]
shared_secret: ` + secret32 + `
cookie_secret: ` + secret32 + `
cookie_expire: 8h
programmatic_redirect_domain_whitelist: [localhost, callback.example.com]
routes:
  - from: https://verify.example.com
    to:
      - http://verify-a:8080,3
      - https://verify-b:8443
    name: Verify
    description: Shows who you are
    logo_url: https://example.com/logo.png
    prefix: /app
    policy:
      allow:
        or:
          - email: {ends_with: "@example.com"}
    pass_identity_headers: true
    allow_websockets: true
    timeout: 10s
    idle_timeout: 2m
  - from: tcp+https://db.example.com:5432
    to: tcp://10.0.0.5:5432
    allowed_users: [dev@example.com]
    allowed_domains: [corp.example.com]
    allowed_idp_claims:
      groups: [admins, 7]
      team: platform
  - from: tcp+https://proxy.example.com:8443/DB.internal:5433
    to: tcp://10.0.0.6:5433
    allow_any_authenticated_user: true
  - from: udp+https://dns.example.com:53
    to: udp://10.0.0.53:53
    allow_public_unauthenticated_access: true
  - from: https://exact.example.com
    to: http://exact:80
    path: /only/this
    allow_any_authenticated_user: true
`

func TestParseFull(t *testing.T) {
	cfg, err := Parse([]byte(fullConfig))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"address", cfg.Address, "127.0.0.1:8443"},
		{"certificate_file", cfg.CertificateFile, "/etc/porthole/cert.pem"},
		{"certificate_key_file", cfg.CertificateKeyFile, "/etc/porthole/key.pem"},
		{"idp_provider_url", cfg.IdpProviderURL, "https://accounts.example.com"},
		{"idp_client_id", cfg.IdpClientID, "porthole"},
		{"idp_client_secret", cfg.IdpClientSecret, "s3cret"},
		{"idp_scopes", cfg.IdpScopes, []string{"openid", "email", "profile"}},
		{"shared_secret", cfg.SharedSecret, secret32},
		{"cookie_secret", cfg.CookieSecret, secret32},
		{"cookie_expire", cfg.CookieExpire, 8 * time.Hour},
		{"whitelist", cfg.ProgrammaticRedirectDomainWhitelist, []string{"localhost", "callback.example.com"}},
		{"len(routes)", len(cfg.Routes), 5},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v; want %#v", c.name, c.got, c.want)
		}
	}
	if t.Failed() {
		return
	}

	r := cfg.Routes[0]
	routeChecks := []struct {
		name      string
		got, want any
	}{
		{"from", r.From, "https://verify.example.com"},
		{"type", r.Type, "http"},
		{"to[0]", r.To[0].URL.String() + " w" + itoa(r.To[0].Weight), "http://verify-a:8080 w3"},
		{"to[1]", r.To[1].URL.String() + " w" + itoa(r.To[1].Weight), "https://verify-b:8443 w1"},
		{"name", r.Name, "Verify"},
		{"description", r.Description, "Shows who you are"},
		{"logo_url", r.LogoURL, "https://example.com/logo.png"},
		{"prefix", r.Prefix, "/app"},
		{"pass_identity_headers", r.PassIdentityHeaders, true},
		{"allow_websockets", r.AllowWebsockets, true},
		{"timeout", r.Timeout, 10 * time.Second},
		{"idle_timeout", r.IdleTimeout, 2 * time.Minute},
		{"FromURL host", r.FromURL.Host, "verify.example.com"},
		{"authority (http)", r.Authority, ""},
		{"policy set", r.Policy.IsZero(), false},

		{"tcp type", cfg.Routes[1].Type, "tcp"},
		{"tcp authority", cfg.Routes[1].Authority, "db.example.com:5432"},
		{"tcp path form", cfg.Routes[1].PathForm, false},
		{"allowed_users", cfg.Routes[1].AllowedUsers, []string{"dev@example.com"}},
		{"allowed_domains", cfg.Routes[1].AllowedDomains, []string{"corp.example.com"}},
		{"allowed_idp_claims", cfg.Routes[1].AllowedIDPClaims, map[string][]any{"groups": {"admins", 7}, "team": {"platform"}}},

		{"path form type", cfg.Routes[2].Type, "tcp"},
		{"path form authority (lower-cased host)", cfg.Routes[2].Authority, "db.internal:5433"},
		{"path form", cfg.Routes[2].PathForm, true},
		{"allow_any_authenticated_user", cfg.Routes[2].AllowAnyAuthenticatedUser, true},

		{"udp type", cfg.Routes[3].Type, "udp"},
		{"udp authority", cfg.Routes[3].Authority, "dns.example.com:53"},
		{"allow_public_unauthenticated_access", cfg.Routes[3].AllowPublicUnauthenticatedAccess, true},

		{"path", cfg.Routes[4].Path, "/only/this"},
	}
	for _, c := range routeChecks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v; want %#v", c.name, c.got, c.want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestParseForms(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{"empty file", ``, func(t *testing.T, c *Config) {
			if c.Address != "" || len(c.Routes) != 0 {
				t.Errorf("got %+v; want the zero Config", c)
			}
		}},
		{"comment only", "# nothing yet\n", func(t *testing.T, c *Config) {
			if len(c.Routes) != 0 {
				t.Errorf("got %d routes; want 0", len(c.Routes))
			}
		}},
		{"scopes as comma string", `idp_scopes: "openid, email,groups"`, func(t *testing.T, c *Config) {
			if want := []string{"openid", "email", "groups"}; !reflect.DeepEqual(c.IdpScopes, want) {
				t.Errorf("idp_scopes = %q; want %q", c.IdpScopes, want)
			}
		}},
		{"whitelist as string", `programmatic_redirect_domain_whitelist: a.example.com,b.example.com`, func(t *testing.T, c *Config) {
			if want := []string{"a.example.com", "b.example.com"}; !reflect.DeepEqual(c.ProgrammaticRedirectDomainWhitelist, want) {
				t.Errorf("whitelist = %q; want %q", c.ProgrammaticRedirectDomainWhitelist, want)
			}
		}},
		{"to as one string with weight", "routes:\n- from: https://a.example.com\n  to: http://a:8080,5\n  allow_any_authenticated_user: true\n", func(t *testing.T, c *Config) {
			up := c.Routes[0].To
			if len(up) != 1 || up[0].URL.String() != "http://a:8080" || up[0].Weight != 5 {
				t.Errorf("to = %+v; want http://a:8080 weight 5", up)
			}
		}},
		{"http from with trailing slash", "routes:\n- from: https://a.example.com/\n  to: http://a\n", func(t *testing.T, c *Config) {
			if c.Routes[0].Type != "http" {
				t.Errorf("type = %q; want http", c.Routes[0].Type)
			}
		}},
		{"ipv6 tcp route", "routes:\n- from: tcp+https://[::1]:5432\n  to: tcp://[::1]:5433\n", func(t *testing.T, c *Config) {
			if got := c.Routes[0].Authority; got != "[::1]:5432" {
				t.Errorf("authority = %q; want [::1]:5432", got)
			}
		}},
		{"path form without proxy port", "routes:\n- from: tcp+https://proxy.example.com/db:5432\n  to: tcp://db:5432\n", func(t *testing.T, c *Config) {
			if r := c.Routes[0]; r.Authority != "db:5432" || !r.PathForm {
				t.Errorf("authority, path form = %q, %v; want db:5432, true", r.Authority, r.PathForm)
			}
		}},
		{"same host, different ports", "routes:\n- from: tcp+https://db:5432\n  to: tcp://db:5432\n- from: tcp+https://db:5433\n  to: tcp://db:5433\n", func(t *testing.T, c *Config) {
			if len(c.Routes) != 2 {
				t.Errorf("got %d routes; want 2", len(c.Routes))
			}
		}},
		{"same host, different prefixes", "routes:\n- from: https://a\n  to: http://a\n  prefix: /x\n- from: https://a\n  to: http://b\n  prefix: /y\n", func(t *testing.T, c *Config) {
			if len(c.Routes) != 2 {
				t.Errorf("got %d routes; want 2", len(c.Routes))
			}
		}},
		{"http idp on loopback", "idp_provider_url: http://127.0.0.1:9000\nidp_client_id: x\n", func(t *testing.T, c *Config) {
			if c.IdpProviderURL != "http://127.0.0.1:9000" {
				t.Errorf("idp_provider_url = %q", c.IdpProviderURL)
			}
		}},
		{"data logo", "routes:\n- from: https://a\n  to: http://a\n  logo_url: data:image/png;base64,iVBORw0KGgo=\n", func(t *testing.T, c *Config) {
			if !strings.HasPrefix(c.Routes[0].LogoURL, "data:image/png") {
				t.Errorf("logo_url = %q", c.Routes[0].LogoURL)
			}
		}},
		{"null values are unset", "address:\nroutes:\n- from: https://a\n  to: http://a\n  timeout:\n  allow_websockets:\n", func(t *testing.T, c *Config) {
			if c.Address != "" || c.Routes[0].Timeout != 0 || c.Routes[0].AllowWebsockets {
				t.Errorf("got %+v; want unset values", c.Routes[0])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestParseErrors(t *testing.T) {
	route := func(lines ...string) string {
		return "routes:\n  - " + strings.Join(lines, "\n    ") + "\n"
	}
	tests := []struct {
		name string
		yaml string
		want string // the whole error, or a distinctive part of it
	}{
		{"unknown top key", "adress: :443\n", `unknown key "adress" at line 1; did you mean "address"? (allowed: address, certificate_file, certificate_key_file, idp_provider_url`},
		{"unknown route key", route("from: https://a.example.com", "to: http://a", "polcy: {}"), `routes[0] (from https://a.example.com): unknown key "polcy" at line 4; did you mean "policy"? (allowed: from, to, name, description, logo_url, prefix, path, policy,`},
		{"unknown key in second route", route("from: https://a", "to: http://a") + route("from: https://b", "to: http://b", "allowed_groups: [x]")[len("routes:\n"):], `routes[1] (from https://b): not supported by pomerium-server: allowed_groups (removed from Pomerium`},
		{"from without scheme", route("from: db.example.com", "to: http://x"), `routes[0] (from db.example.com): from: scheme must be https, tcp+https or udp+https, got ""`},
		{"tcp route with http upstream", route("from: tcp+https://db:5432", "to: http://x:1"), `routes[0] (from tcp+https://db:5432): to: scheme must be tcp for a tcp+https route, got "http://x:1"`},
		{"udp route with tcp upstream", route("from: udp+https://dns:53", "to: tcp://x:53"), `to: scheme must be udp for a udp+https route`},
		{"http route with tcp upstream", route("from: https://a", "to: tcp://x:1"), `to: scheme must be http or https for a https route`},
		{"second upstream bad", route("from: https://a", "to: [http://x, ftp://y]"), `to[1]: scheme must be http or https`},
		{"bad from scheme", route("from: http://a.example.com", "to: http://a"), `from: scheme must be https, tcp+https or udp+https, got "http"`},
		{"from missing", route("to: http://a"), `routes[0]: from: required`},
		{"from without host", route("from: https://", "to: http://a"), `from: needs a host`},
		{"from with path", route("from: https://a/x", "to: http://a"), `from: must not have a path (got "/x"); match paths with prefix: or path:`},
		{"from with query", route("from: https://a?x=1", "to: http://a"), `from: must not have a query or fragment`},
		{"tcp without port", route("from: tcp+https://db.example.com", "to: tcp://db:5432"), `from: a tcp+https route needs a port (tcp+https://db.example.com:5432) or a path /host:port`},
		{"path form without port", route("from: tcp+https://proxy/db", "to: tcp://db:5432"), `path form wants exactly /host:port`},
		{"path form with two segments", route("from: tcp+https://proxy/db:5432/x", "to: tcp://db:5432"), `path form wants exactly /host:port`},
		{"bad port", route("from: tcp+https://db:99999", "to: tcp://db:5432"), `port must be 1-65535, got "99999"`},
		{"to missing", route("from: https://a"), `to: required`},
		{"to empty list", route("from: https://a", "to: []"), `to: required`},
		{"bad weight", route("from: https://a", "to: http://a:8080,x"), `weight after the comma must be a positive whole number`},
		{"zero weight", route("from: https://a", "to: http://a:8080,0"), `weight after the comma must be a positive whole number`},
		{"tcp upstream without port", route("from: tcp+https://db:5432", "to: tcp://db"), `to: needs a port`},
		{"tcp upstream with path", route("from: tcp+https://db:5432", "to: tcp://db:5432/x"), `to: must be just tcp://host:port`},
		{"to a map", route("from: https://a", "to: {url: http://a}"), `to: want a list of strings, got a map`},
		{"prefix on tcp", route("from: tcp+https://db:5432", "to: tcp://db:5432", "prefix: /x"), `prefix/path: only for https routes`},
		{"prefix without slash", route("from: https://a", "to: http://a", "prefix: x"), `prefix: must start with /`},
		{"path without slash", route("from: https://a", "to: http://a", "path: x"), `path: must start with /`},
		{"prefix and path", route("from: https://a", "to: http://a", "prefix: /x", "path: /y"), `prefix and path: set at most one`},
		{"bool as string", route("from: https://a", "to: http://a", "allow_websockets: yes"), `allow_websockets: want true or false, got "yes"`},
		{"bad duration", route("from: https://a", "to: http://a", "timeout: 30"), `timeout: want a duration like 30s, 5m or 14h, got "30"`},
		{"negative duration", route("from: https://a", "to: http://a", "idle_timeout: -1s"), `idle_timeout: must not be negative`},
		{"bad cookie_expire", "cookie_expire: forever\n", `cookie_expire: want a duration`},
		{"secret not base64", "shared_secret: not*base64\n", `shared_secret: must be standard base64 of 32 bytes`},
		{"secret too short", "cookie_secret: c2hvcnQ=\n", `cookie_secret: must be base64 of 32 bytes, got 5 bytes`},
		{"bad policy criterion", route("from: https://a", "to: http://a", "policy: {allow: {or: [{emial: x}]}}"), `routes[0] (from https://a): policy: allow: or[0]: unknown or unsupported criterion "emial"`},
		{"bad policy matcher", route("from: https://a", "to: http://a", "policy: {allow: {or: [{email: {eq: x}}]}}"), `policy: allow: or[0]: email: unknown string matcher "eq"`},
		{"public plus users", route("from: https://a", "to: http://a", "allow_public_unauthenticated_access: true", "allowed_users: [a@b.c]"), `allow_public_unauthenticated_access: cannot be combined with`},
		{"bad domain", route("from: https://a", "to: http://a", "allowed_domains: [\"@example.com\"]"), `allowed_domains[0]: want a bare domain like example.com`},
		{"empty user", route("from: https://a", "to: http://a", "allowed_users: [\"\"]"), `allowed_users[0]: empty`},
		{"claims not a map", route("from: https://a", "to: http://a", "allowed_idp_claims: [x]"), `allowed_idp_claims: want a map of claim name to list of values`},
		{"claims nested", route("from: https://a", "to: http://a", "allowed_idp_claims: {groups: [{a: b}]}"), `allowed_idp_claims: groups[0]: want a value`},
		{"javascript logo", route("from: https://a", "to: http://a", "logo_url: javascript:alert(1)"), `logo_url: want an https URL or a data:image/... URL`},
		{"duplicate tcp authority", route("from: tcp+https://db:5432", "to: tcp://db:5432") + route("from: tcp+https://proxy:8443/db:5432", "to: tcp://db:5432")[len("routes:\n"):], `routes[1] (from tcp+https://proxy:8443/db:5432): from: the same tcp host:port (db:5432) as routes[0] (from tcp+https://db:5432)`},
		{"duplicate http route", route("from: https://a", "to: http://a") + route("from: https://A", "to: http://b")[len("routes:\n"):], `routes[1] (from https://A): from: the same from, prefix and path as routes[0]`},
		{"key set twice", route("from: https://a", "to: http://a", "to: http://b"), `line 4: key "to" set twice in the same map`},
		{"claim set twice", route("from: https://a", "to: http://a", "allowed_idp_claims: {g: a, g: b}"), `key "g" set twice`},
		{"top key set twice", "address: :1\naddress: :2\n", `line 2: key "address" set twice`},
		{"routes not a list", "routes: {from: https://a}\n", `routes: want a list of routes`},
		{"route not a map", "routes: [https://a]\n", `routes[0]: want a map of settings (key: value lines), got "https://a"`},
		{"top level list", "- a\n", `want a map of settings (key: value lines), got a list`},
		{"two documents", "address: :443\n---\naddress: :444\n", `more than one YAML document`},
		{"bad YAML", "routes: [\n", `not valid YAML: line 1: did not find expected node content (a quote, bracket or brace is not closed)`},
		{"bad address", "address: localhost\n", `address: want host:port, got "localhost"`},
		{"cert without key", "certificate_file: /c.pem\n", `certificate_file and certificate_key_file: set both or neither`},
		{"http idp", "idp_provider_url: http://idp.example.com\nidp_client_id: x\n", `idp_provider_url: scheme must be https (http only for a loopback host)`},
		{"idp without client id", "idp_provider_url: https://idp.example.com\n", `idp_client_id: required when idp_provider_url is set`},
		{"whitelist with scheme", "programmatic_redirect_domain_whitelist: [https://a.example.com]\n", `programmatic_redirect_domain_whitelist[0]: want a bare host name`},
		{"scopes a map", "idp_scopes: {a: b}\n", `idp_scopes: want a list of strings, got a map`},
		{"scopes list of lists", "idp_scopes: [[a]]\n", `idp_scopes: [0]: want a string, got a list`},
		{"merge key", "routes:\n  - &r {from: https://a, to: http://a}\n  - <<: *r\n    from: https://b\n", `routes[1] (from https://b): line 3: YAML merge keys (<<) are not supported`},
		{"from a list", route("from: [https://a]", "to: http://a"), `from: want a string, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse(%q) = nil error; want one containing %q", tt.yaml, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error:\n got  %q\n want it to contain %q", tt.yaml, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q; want one line", err)
			}
		})
	}
}

func TestEffectivePolicy(t *testing.T) {
	var (
		anon  *policy.Identity
		dev   = &policy.Identity{User: "u-dev", Email: "dev@example.com", Claims: map[string]any{"groups": []any{"admins"}, "level": 7.0}}
		guest = &policy.Identity{User: "guest@example.com", Email: "guest@other.org"}
		eve   = &policy.Identity{User: "u-eve", Email: "eve@corp.example.com", Claims: map[string]any{"team": "platform"}}
	)
	ids := []*policy.Identity{anon, dev, guest, eve}
	A, D, S := policy.Allow, policy.Deny, policy.SignIn
	tests := []struct {
		name  string
		route string
		want  [4]policy.Decision
	}{
		{"nothing set denies", "", [4]policy.Decision{D, D, D, D}},
		{"public", "allow_public_unauthenticated_access: true", [4]policy.Decision{A, A, A, A}},
		{"any authenticated user", "allow_any_authenticated_user: true", [4]policy.Decision{S, A, A, A}},
		{"allowed_users by email", "allowed_users: [dev@example.com]", [4]policy.Decision{S, A, D, D}},
		{"allowed_users by user id", "allowed_users: [guest@example.com]", [4]policy.Decision{S, D, A, D}},
		{"allowed_domains", "allowed_domains: [corp.example.com, other.org]", [4]policy.Decision{S, D, A, A}},
		{"allowed_idp_claims list claim", "allowed_idp_claims: {groups: [admins]}", [4]policy.Decision{S, A, D, D}},
		{"allowed_idp_claims number", "allowed_idp_claims: {level: [7]}", [4]policy.Decision{S, A, D, D}},
		{"allowed_idp_claims scalar value", "allowed_idp_claims: {team: platform}", [4]policy.Decision{S, D, D, A}},
		{"shortcuts OR-ed", "allowed_users: [dev@example.com]\n    allowed_domains: [other.org]", [4]policy.Decision{S, A, A, D}},
		{"policy OR shortcuts", "allowed_users: [dev@example.com]\n    policy: {allow: {or: [{domain: corp.example.com}]}}", [4]policy.Decision{S, A, D, A}},
		{"policy deny beats shortcut", "allow_any_authenticated_user: true\n    policy: {deny: {or: [{email: dev@example.com}]}}", [4]policy.Decision{S, D, A, A}},
		{"public with a deny asks anonymous users to sign in", "allow_public_unauthenticated_access: true\n    policy: {deny: {or: [{domain: other.org}]}}", [4]policy.Decision{S, A, D, A}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := "routes:\n  - from: https://a.example.com\n    to: http://a\n"
			if tt.route != "" {
				yml += "    " + tt.route + "\n"
			}
			cfg, err := Parse([]byte(yml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			p := cfg.Routes[0].EffectivePolicy()
			for i, id := range ids {
				if got := p.Evaluate(id); got != tt.want[i] {
					t.Errorf("identity %d: Evaluate = %v; want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(good, []byte(fullConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(good)
	if err != nil {
		t.Fatalf("Load(good): %v", err)
	}
	if len(cfg.Routes) != 5 {
		t.Errorf("Load(good): got %d routes; want 5", len(cfg.Routes))
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("routes:\n  - from: https://a\n    to: http://a\n    polcy: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+": routes[0] (from https://a): unknown key \"polcy\"") {
		t.Errorf("Load(bad) error = %v; want it to start with the path and name the key", err)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load(missing) error = %v; want a not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		type unwrapper interface{ Unwrap() error }
		u, ok := err.(unwrapper)
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestRouteValidate(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name      string
		route     Route
		wantErr   string
		wantType  string
		wantAuth  string
		wantPathF bool
	}{
		{"path form", Route{From: "tcp+https://127.0.0.1:8443/echo.internal:7000", To: []Upstream{{URL: mustURL("tcp://127.0.0.1:7000")}}}, "", "tcp", "echo.internal:7000", true},
		{"host form", Route{From: "tcp+https://admin-echo.localhost:7001", To: []Upstream{{URL: mustURL("tcp://127.0.0.1:7000")}}}, "", "tcp", "admin-echo.localhost:7001", false},
		{"http", Route{From: "https://verify.localhost.pomerium.io", To: []Upstream{{URL: mustURL("http://127.0.0.1:9000")}}}, "", "http", "", false},
		{"no upstream", Route{From: "https://a"}, "to: required", "", "", false},
		{"nil upstream URL", Route{From: "https://a", To: []Upstream{{}}}, "to: want a URL", "", "", false},
		{"wrong upstream scheme", Route{From: "tcp+https://a:1", To: []Upstream{{URL: mustURL("http://b:1")}}}, "to: scheme must be tcp", "", "", false},
		{"bad from", Route{From: "ftp://a", To: []Upstream{{URL: mustURL("http://b")}}}, "from: scheme must be", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.route
			err := r.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v; want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(): %v", err)
			}
			if r.Type != tt.wantType || r.Authority != tt.wantAuth || r.PathForm != tt.wantPathF || r.FromURL == nil {
				t.Errorf("got type %q authority %q path form %v FromURL %v; want %q %q %v set",
					r.Type, r.Authority, r.PathForm, r.FromURL, tt.wantType, tt.wantAuth, tt.wantPathF)
			}
			if r.To[0].Weight != 1 {
				t.Errorf("weight = %d; want the default 1", r.To[0].Weight)
			}
		})
	}
}

func TestDecodeSecret(t *testing.T) {
	if got := DecodeSecret(secret32); len(got) != 32 {
		t.Errorf("DecodeSecret(valid) = %d bytes; want 32", len(got))
	}
	if got := DecodeSecret(""); got != nil {
		t.Errorf("DecodeSecret(\"\") = %v; want nil", got)
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatalf("Load(example.yaml): %v", err)
	}
	var got []string
	for _, r := range cfg.Routes {
		got = append(got, r.Type+" "+r.Authority)
	}
	want := []string{"http ", "http ", "tcp db.example.com:5432", "tcp ssh.internal:22", "http "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes = %q; want %q", got, want)
	}
	contractor := &policy.Identity{Email: "x@sre.example.com", Claims: map[string]any{"contractor": true}}
	if d := cfg.Routes[1].EffectivePolicy().Evaluate(contractor); d != policy.Deny {
		t.Errorf("grafana for a contractor = %v; want deny", d)
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name              string
		settings          string
		wantReq, wantIdle time.Duration
	}{
		{"defaults", "", DefaultTimeout, DefaultIdleTimeout},
		{"timeout only", "timeout: 1m", time.Minute, DefaultIdleTimeout},
		{"idle only makes requests unlimited", "idle_timeout: 1h", 0, time.Hour},
		{"both", "timeout: 10s\n    idle_timeout: 1h", 10 * time.Second, time.Hour},
		{"explicit unlimited", "timeout: 0s\n    idle_timeout: 0s", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte("routes:\n  - from: https://a\n    to: http://a\n    " + tt.settings + "\n"))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r := cfg.Routes[0]
			if got := r.EffectiveTimeout(); got != tt.wantReq {
				t.Errorf("EffectiveTimeout = %v; want %v", got, tt.wantReq)
			}
			if got := r.EffectiveIdleTimeout(); got != tt.wantIdle {
				t.Errorf("EffectiveIdleTimeout = %v; want %v", got, tt.wantIdle)
			}
		})
	}
	// Routes built in code: the plain fields count as set when non-zero.
	r := Route{IdleTimeout: time.Minute}
	if r.EffectiveTimeout() != 0 || r.EffectiveIdleTimeout() != time.Minute {
		t.Errorf("code-built route: timeouts %v, %v; want 0, 1m", r.EffectiveTimeout(), r.EffectiveIdleTimeout())
	}
}

func TestCheckRoutes(t *testing.T) {
	mk := func(from, to string) Route {
		u, err := url.Parse(to)
		if err != nil {
			t.Fatal(err)
		}
		r := Route{From: from, To: []Upstream{{URL: u}}}
		if err := r.Validate(); err != nil {
			t.Fatalf("Validate(%s): %v", from, err)
		}
		return r
	}
	ok := []Route{mk("tcp+https://127.0.0.1:8443/echo.internal:7000", "tcp://127.0.0.1:7000"), mk("https://verify.localhost", "http://127.0.0.1:1")}
	if err := CheckRoutes(ok); err != nil {
		t.Errorf("CheckRoutes(distinct) = %v; want nil", err)
	}
	clash := append(ok, mk("tcp+https://echo.internal:7000", "tcp://10.0.0.1:7000"))
	err := CheckRoutes(clash)
	if err == nil || !strings.Contains(err.Error(), "routes[2] (from tcp+https://echo.internal:7000): from: the same tcp host:port (echo.internal:7000) as routes[0]") {
		t.Errorf("CheckRoutes(clash) = %v; want the duplicate named", err)
	}
}

func TestChangedKeys(t *testing.T) {
	secret := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	parse := func(yml string, env map[string]string) *Config {
		t.Helper()
		cfg, err := ParseEnv([]byte(yml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatalf("%q: %v", yml, err)
		}
		return cfg
	}
	if err := os.WriteFile(secretFile, []byte(secret(1)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := parse("idp_client_id: a\ncookie_expire: 1h\nidp_scopes: [openid, email]\nshared_secret_file: "+secretFile+"\n", nil)
	for _, tc := range []struct {
		name string
		yml  string
		env  map[string]string
		want []string
	}{
		{"same", "idp_client_id: a\ncookie_expire: 1h\nidp_scopes: [openid, email]\nshared_secret_file: " + secretFile + "\n", nil, nil},
		{"same, other spelling", "idp_client_id: \"a\"\ncookie_expire: 1h\nidp_scopes:\n  - openid\n  - email\nshared_secret_file: " + secretFile + "\n", nil, nil},
		{"changed and removed", "idp_client_id: b\nidp_scopes: [openid]\nshared_secret_file: " + secretFile + "\n", nil, []string{"cookie_expire", "idp_client_id", "idp_scopes"}},
		{"added", "idp_client_id: a\ncookie_expire: 1h\nidp_scopes: [openid, email]\nshared_secret_file: " + secretFile + "\nlog_level: debug\n", nil, []string{"log_level"}},
		{"from the environment", "idp_client_id: a\ncookie_expire: 1h\nidp_scopes: [openid, email]\nshared_secret_file: " + secretFile + "\n", map[string]string{"IDP_CLIENT_ID": "env"}, []string{"idp_client_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChangedKeys(a, parse(tc.yml, tc.env)); !slices.Equal(got, tc.want) {
				t.Errorf("ChangedKeys = %v; want %v", got, tc.want)
			}
		})
	}
	t.Run("secret file contents", func(t *testing.T) {
		if err := os.WriteFile(secretFile, []byte(secret(2)), 0o600); err != nil {
			t.Fatal(err)
		}
		b := parse("idp_client_id: a\ncookie_expire: 1h\nidp_scopes: [openid, email]\nshared_secret_file: "+secretFile+"\n", nil)
		if got, want := ChangedKeys(a, b), []string{"shared_secret_file"}; !slices.Equal(got, want) {
			t.Errorf("ChangedKeys = %v; want %v", got, want)
		}
	})
}
