package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

var topKeys = append([]string{
	"address", "certificate_file", "certificate_key_file",
	"idp_provider_url", "idp_client_id", "idp_client_secret", "idp_scopes",
	"shared_secret", "cookie_secret", "cookie_expire",
	"programmatic_redirect_domain_whitelist", "api_admins", "routes",
	"data_dir", "databroker_storage_type", "databroker_storage_connection_string",
}, limitKeys...)

var routeKeys = []string{
	"from", "to", "name", "description", "logo_url", "prefix", "path", "policy",
	"allow_public_unauthenticated_access", "allow_any_authenticated_user",
	"allowed_users", "allowed_domains", "allowed_idp_claims",
	"pass_identity_headers", "allow_websockets", "timeout", "idle_timeout",
}

// Parse validates YAML bytes.
func Parse(data []byte) (*Config, error) { return ParseEnv(data, nil) }

// ParseEnv is Parse with environment overrides (see LoadEnv).
func ParseEnv(data []byte, lookup LookupEnv) (*Config, error) {
	cfg := &Config{}
	var routes *yaml.Node
	fields, keys := cfg.topFields(&routes)
	env := envOverrides(keys, lookup)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			return nil, yamlError(err)
		}
		// An empty file: all defaults (and the environment), no routes.
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("config holds more than one YAML document (---); keep one")
	}
	if err := yamlnode.DuplicateKeys(&doc); err != nil {
		return nil, err
	}
	root := yamlnode.Resolve(&doc)
	if yamlnode.IsNull(root) {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	if root.Kind == yaml.MappingNode {
		applyEnv(root, env)
	}
	cfg.raw = rawValues(root)
	if err := decodeMapWith(root, keys, fields, unsupportedTopKeys); err != nil {
		for k := range env {
			if strings.HasPrefix(err.Error(), k+":") {
				return nil, fmt.Errorf("%w (the value comes from the environment variable %s)", err, strings.ToUpper(k))
			}
		}
		return nil, err
	}
	if err := cfg.applySecretFiles(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := cfg.validateSettings(); err != nil {
		return nil, err
	}
	if routes != nil && !yamlnode.IsNull(routes) {
		if routes.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("routes: want a list of routes (- from: ... to: ...), got %s", yamlnode.KindName(routes))
		}
		for i, rn := range routes.Content {
			r, err := parseRoute(yamlnode.Resolve(rn), &cfg.Settings)
			if err != nil {
				return nil, fmt.Errorf("routes[%d]%s: %w", i, fromLabel(yamlnode.Resolve(rn)), err)
			}
			cfg.Routes = append(cfg.Routes, r)
		}
	}
	if err := checkDuplicates(cfg.Routes); err != nil {
		return nil, err
	}
	return cfg, nil
}

// fromLabel is " (from X)" when the route node has a string from.
func fromLabel(rn *yaml.Node) string {
	if f := lookup(rn, "from"); f != nil && f.Kind == yaml.ScalarNode && f.Value != "" {
		return " (from " + oneLine(f.Value) + ")"
	}
	return ""
}

// oneLine keeps a value from the file on one line of an error message.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func (c *Config) validate() error {
	if c.Address != "" {
		if _, err := hostPort(c.Address); err != nil {
			return fmt.Errorf("address: %w (e.g. :443 or 127.0.0.1:8443)", err)
		}
	}
	if (c.CertificateFile == "") != (c.CertificateKeyFile == "") {
		return errors.New("certificate_file and certificate_key_file: set both or neither")
	}
	if c.IdpProviderURL != "" {
		u, err := url.Parse(c.IdpProviderURL)
		switch {
		case err != nil || u.Host == "":
			return fmt.Errorf("idp_provider_url: want the issuer URL, e.g. https://accounts.example.com, got %q", c.IdpProviderURL)
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			return fmt.Errorf("idp_provider_url: scheme must be https (http only for a loopback host), got %q", c.IdpProviderURL)
		}
		if c.IdpClientID == "" {
			return errors.New("idp_client_id: required when idp_provider_url is set")
		}
	}
	if err := c.Storage.validate(); err != nil {
		return err
	}
	if err := c.validateAuthn(); err != nil {
		return err
	}
	if err := checkSecret(c.SharedSecret); err != nil {
		return fmt.Errorf("shared_secret: %w", err)
	}
	if err := checkSecret(c.CookieSecret); err != nil {
		return fmt.Errorf("cookie_secret: %w", err)
	}
	for i, h := range c.ProgrammaticRedirectDomainWhitelist {
		if h == "" || strings.ContainsAny(h, "/:@?# ") {
			return fmt.Errorf("programmatic_redirect_domain_whitelist[%d]: want a bare host name like app.example.com, got %q", i, h)
		}
	}
	return nil
}

// checkSecret accepts "" (the server generates one) or base64 of 32 bytes.
func checkSecret(s string) error {
	if s == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return errors.New("must be standard base64 of 32 bytes (generate one with: head -c32 /dev/urandom | base64)")
	}
	if len(b) != 32 {
		return fmt.Errorf("must be base64 of 32 bytes, got %d bytes (generate one with: head -c32 /dev/urandom | base64)", len(b))
	}
	return nil
}

// DecodeSecret returns the 32 bytes of a validated shared_secret or
// cookie_secret, or nil for "".
func DecodeSecret(s string) []byte {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b
	}
	return nil
}

func parseRoute(n *yaml.Node, global *Settings) (Route, error) {
	var r Route
	var passSet bool
	var to []string
	fields := map[string]fieldFn{
		"from":                                str(&r.From),
		"to":                                  strList(&to, false),
		"name":                                str(&r.Name),
		"description":                         str(&r.Description),
		"logo_url":                            str(&r.LogoURL),
		"prefix":                              str(&r.Prefix),
		"path":                                str(&r.Path),
		"policy":                              func(n *yaml.Node) error { return r.Policy.UnmarshalYAML(n) },
		"allow_public_unauthenticated_access": boolean(&r.AllowPublicUnauthenticatedAccess),
		"allow_any_authenticated_user":        boolean(&r.AllowAnyAuthenticatedUser),
		"allowed_users":                       strList(&r.AllowedUsers, false),
		"allowed_domains":                     strList(&r.AllowedDomains, false),
		"allowed_idp_claims":                  claimMap(&r.AllowedIDPClaims),
		"pass_identity_headers": func(n *yaml.Node) error {
			passSet = !yamlnode.IsNull(n)
			return boolean(&r.PassIdentityHeaders)(n)
		},
		"allow_websockets": boolean(&r.AllowWebsockets),
		"timeout":          duration(&r.Timeout, &r.timeoutSet),
		"idle_timeout":     duration(&r.IdleTimeout, &r.idleTimeoutSet),
	}
	r.settingFields(fields)
	if err := decodeMapWith(n, allRouteKeys(), fields, unsupportedRouteKeys); err != nil {
		return Route{}, err
	}
	r.applyGlobal(global, passSet)
	if err := r.validateFrom(); err != nil {
		return Route{}, fmt.Errorf("from: %w", err)
	}
	if len(to) == 0 && r.Redirect == nil {
		return Route{}, errTo
	}
	for i, s := range to {
		u, err := r.parseUpstream(s)
		if err != nil {
			return Route{}, fmt.Errorf("%s: %w", toKey(i, len(to)), err)
		}
		r.To = append(r.To, u)
	}
	return r, r.validateRest()
}

var errTo = errors.New("to: required (or redirect): the upstream URL or a list of them, e.g. to: http://localhost:8080")

func allRouteKeys() []string { return append(slices.Clone(routeKeys), settingKeys...) }

func toKey(i, n int) string {
	if n > 1 {
		return fmt.Sprintf("to[%d]", i)
	}
	return "to"
}

// Validate checks a Route built in code rather than by Parse (the dev
// server's sample routes) with the same rules, and fills its derived
// fields: FromURL, Type, Authority, PathForm. A zero upstream Weight
// becomes 1.
func (r *Route) Validate() error {
	if err := r.validateFrom(); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if len(r.To) == 0 && r.Redirect == nil {
		return errTo
	}
	for i := range r.To {
		if r.To[i].Weight == 0 {
			r.To[i].Weight = 1
		}
		if r.To[i].Weight < 0 || r.To[i].URL == nil {
			return fmt.Errorf("%s: want a URL and a positive weight", toKey(i, len(r.To)))
		}
		if err := r.checkUpstream(r.To[i].URL); err != nil {
			return fmt.Errorf("%s: %w", toKey(i, len(r.To)), err)
		}
	}
	return r.validateRest()
}

func (r *Route) validateFrom() error {
	if r.From == "" {
		return errors.New("required: the external URL, e.g. https://app.example.com or tcp+https://db.example.com:5432")
	}
	u, err := url.Parse(r.From)
	if err != nil {
		return fmt.Errorf("not a URL: %q (want https://host[:port][/path], tcp+https://host:port or udp+https://host:port)", r.From)
	}
	switch u.Scheme {
	case "https":
		r.Type = "http"
	case "tcp+https":
		r.Type = "tcp"
	case "udp+https":
		r.Type = "udp"
	default:
		return fmt.Errorf("scheme must be https, tcp+https or udp+https, got %q", u.Scheme)
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("needs a host, e.g. %s://app.example.com", u.Scheme)
	case u.User != nil:
		return errors.New("must not carry user info (user@)")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	if u.Port() != "" {
		if _, err := hostPort(u.Host); err != nil {
			return err
		}
	}
	r.FromURL = u
	if r.Type == "http" {
		if u.Path != "" && u.Path != "/" {
			return fmt.Errorf("must not have a path (got %q); match paths with prefix: or path:", u.Path)
		}
		return nil
	}
	if u.Path == "" || u.Path == "/" {
		if u.Port() == "" {
			return fmt.Errorf("a %s route needs a port (%s://db.example.com:5432) or a path /host:port (%s://proxy.example.com/db.internal:5432)",
				u.Scheme, u.Scheme, u.Scheme)
		}
		r.Authority = net.JoinHostPort(strings.ToLower(u.Hostname()), u.Port())
		return nil
	}
	a, err := hostPort(strings.TrimPrefix(u.Path, "/"))
	if err != nil || a.host == "" || strings.Contains(u.Path[1:], "/") {
		return fmt.Errorf("path form wants exactly /host:port after the proxy's address (e.g. %s://proxy.example.com/db.internal:5432), got path %q", u.Scheme, u.Path)
	}
	r.Authority = net.JoinHostPort(strings.ToLower(a.host), a.port)
	r.PathForm = true
	return nil
}

// parseUpstream parses one `to` entry, "URL" or "URL,weight".
func (r *Route) parseUpstream(s string) (Upstream, error) {
	up := Upstream{Weight: 1}
	raw := strings.TrimSpace(s)
	if i := strings.LastIndexByte(raw, ','); i >= 0 {
		w, err := strconv.Atoi(strings.TrimSpace(raw[i+1:]))
		if err != nil || w < 1 {
			return Upstream{}, fmt.Errorf("weight after the comma must be a positive whole number (http://a:8080,2), got %q", s)
		}
		up.Weight, raw = w, strings.TrimSpace(raw[:i])
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Upstream{}, fmt.Errorf("not a URL: %q (want scheme://host:port, e.g. http://127.0.0.1:8080 or tcp://db:5432)", raw)
	}
	if err := r.checkUpstream(u); err != nil {
		return Upstream{}, err
	}
	up.URL = u
	return up, nil
}

// checkUpstream checks a `to` URL against the route's type.
func (r *Route) checkUpstream(u *url.URL) error {
	raw := u.String()
	want := map[string][]string{"http": {"http", "https"}, "tcp": {"tcp"}, "udp": {"udp"}}[r.Type]
	if !slices.Contains(want, u.Scheme) {
		return fmt.Errorf("scheme must be %s for a %s route, got %q", strings.Join(want, " or "), r.FromURL.Scheme, raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("needs a host, e.g. %s://localhost:8080, got %q", u.Scheme, raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("must not have a fragment, got %q", raw)
	}
	if u.Port() != "" {
		if _, err := hostPort(u.Host); err != nil {
			return err
		}
	}
	if r.Type != "http" {
		if u.Port() == "" {
			return fmt.Errorf("needs a port, e.g. %s://10.0.0.5:5432, got %q", u.Scheme, raw)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("must be just %s://host:port, got %q", u.Scheme, raw)
		}
	}
	return nil
}

func (r *Route) validateRest() error {
	if r.Type != "http" && (r.Prefix != "" || r.Path != "") {
		return fmt.Errorf("prefix/path: only for https routes; a %s route is matched by its host:port", r.Type)
	}
	if r.Prefix != "" && !strings.HasPrefix(r.Prefix, "/") {
		return fmt.Errorf("prefix: must start with /, got %q", r.Prefix)
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("path: must start with /, got %q", r.Path)
	}
	if r.Prefix != "" && r.Path != "" {
		return errors.New("prefix and path: set at most one")
	}
	if r.LogoURL != "" {
		u, err := url.Parse(r.LogoURL)
		if err != nil || !(u.Scheme == "https" || u.Scheme == "http" || (u.Scheme == "data" && strings.HasPrefix(u.Opaque, "image/"))) {
			return fmt.Errorf("logo_url: want an https URL or a data:image/... URL, got %q", r.LogoURL)
		}
	}
	if r.AllowPublicUnauthenticatedAccess &&
		(r.AllowAnyAuthenticatedUser || len(r.AllowedUsers) > 0 || len(r.AllowedDomains) > 0 || len(r.AllowedIDPClaims) > 0) {
		return errors.New("allow_public_unauthenticated_access: cannot be combined with allow_any_authenticated_user, allowed_users, allowed_domains or allowed_idp_claims (a public route already lets everyone in)")
	}
	for i, u := range r.AllowedUsers {
		if strings.TrimSpace(u) == "" {
			return fmt.Errorf("allowed_users[%d]: empty", i)
		}
	}
	for i, d := range r.AllowedDomains {
		if d == "" || strings.ContainsAny(d, "@/: ") {
			return fmt.Errorf("allowed_domains[%d]: want a bare domain like example.com, got %q", i, d)
		}
	}
	return r.validateSettings()
}

// CheckRoutes refuses two routes that the server could not tell apart
// (the same tcp/udp host:port, or the same https from, prefix and path).
// Parse runs it; call it again after adding routes built in code.
func CheckRoutes(routes []Route) error { return checkDuplicates(routes) }

func checkDuplicates(routes []Route) error {
	seen := map[string]int{}
	for i, r := range routes {
		var key, what string
		if r.Type == "http" {
			key = "http " + strings.ToLower(r.FromURL.Host) + " prefix=" + r.Prefix + " path=" + r.Path + " regex=" + r.Regex
			what = "the same from, prefix and path"
		} else {
			key = r.Type + " " + r.Authority
			what = "the same " + r.Type + " host:port (" + r.Authority + ")"
		}
		if j, ok := seen[key]; ok {
			return fmt.Errorf("routes[%d] (from %s): from: %s as routes[%d] (from %s); merge them or change one",
				i, oneLine(r.From), what, j, oneLine(routes[j].From))
		}
		seen[key] = i
	}
	return nil
}

type hostPortPair struct{ host, port string }

// hostPort splits host:port and checks the port is 1-65535.
func hostPort(s string) (hostPortPair, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return hostPortPair{}, fmt.Errorf("want host:port, got %q", s)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return hostPortPair{}, fmt.Errorf("port must be 1-65535, got %q", p)
	}
	return hostPortPair{h, p}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// topFields are the decoders of every top-level key, and the keys in the
// order error messages list them. routes receives the routes: node.
func (cfg *Config) topFields(routes **yaml.Node) (map[string]fieldFn, []string) {
	fields := map[string]fieldFn{
		"address":                                str(&cfg.Address),
		"certificate_file":                       str(&cfg.CertificateFile),
		"certificate_key_file":                   str(&cfg.CertificateKeyFile),
		"idp_provider_url":                       str(&cfg.IdpProviderURL),
		"idp_client_id":                          str(&cfg.IdpClientID),
		"idp_client_secret":                      str(&cfg.IdpClientSecret),
		"idp_scopes":                             strList(&cfg.IdpScopes, true),
		"shared_secret":                          str(&cfg.SharedSecret),
		"cookie_secret":                          str(&cfg.CookieSecret),
		"cookie_expire":                          duration(&cfg.CookieExpire, nil),
		"programmatic_redirect_domain_whitelist": strList(&cfg.ProgrammaticRedirectDomainWhitelist, true),
		"api_admins":                             strList(&cfg.APIAdmins, true),
		"routes": func(n *yaml.Node) error {
			if *routes != nil {
				return errors.New("set routes or its old name policy, not both")
			}
			*routes = n
			return nil
		},
	}
	// More top-level keys, each group in a file of its own: add one line.
	cfg.settingsFields(fields, routes)
	maps.Copy(fields, cfg.Storage.fields())
	maps.Copy(fields, limitFields(&cfg.Limits))
	maps.Copy(fields, cfg.authnFields())
	keys := slices.Concat(topKeys, settingsTopKeys)
	for k := range fields {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return fields, keys
}

// AcceptedKeys are every top-level key and every route key the parser
// accepts (for documentation checks).
func AcceptedKeys() (top, route []string) {
	var n *yaml.Node
	_, top = (&Config{}).topFields(&n)
	return top, allRouteKeys()
}
