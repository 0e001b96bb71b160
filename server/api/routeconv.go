package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

// routeDeps are the records a route refers to by id.
type routeDeps struct {
	policies map[string]*store.Policy // by id
	keyPairs map[string]*store.KeyPair
}

// compileRoute turns a route written through the API into the server's
// route by way of the Pomerium config keys (routeFieldKeys), so that the
// API accepts exactly what the YAML accepts, no more: a field the server
// does not support is refused, naming the field. Errors are 400s.
func compileRoute(spec *RouteSpec, deps routeDeps) (config.Route, error) {
	m, err := routeKeys(spec, deps)
	if err != nil {
		return config.Route{}, err
	}
	doc, err := json.Marshal(map[string]any{"routes": []any{m}})
	if err != nil {
		return config.Route{}, fmt.Errorf("encoding route: %w", err)
	}
	cfg, err := config.Parse(doc) // JSON is YAML
	if err != nil {
		return config.Route{}, routeParseError(err)
	}
	if len(cfg.Routes) != 1 {
		return config.Route{}, fmt.Errorf("route parser returned %d routes for one", len(cfg.Routes))
	}
	return cfg.Routes[0], nil
}

// routeKeys builds the route's config map. Unset fields (zero values) are
// left out, so a server that does not know a key refuses it only when the
// client asked for it.
func routeKeys(s *RouteSpec, deps routeDeps) (map[string]any, error) {
	m := map[string]any{}
	set := func(key string, v any) { m[key] = v }
	str := func(key, v string) {
		if v != "" {
			set(key, v)
		}
	}
	flag := func(key string, v bool) {
		if v {
			set(key, true)
		}
	}
	str("from", s.From)
	if len(s.To) > 0 {
		set("to", s.To)
	}
	str("name", s.Name)
	str("description", s.Description)
	str("logo_url", s.LogoURL)
	str("prefix", s.Prefix)
	str("path", s.Path)
	str("regex", s.Regex)
	str("prefix_rewrite", s.PrefixRewrite)
	str("regex_rewrite_pattern", s.RegexRewritePattern)
	str("regex_rewrite_substitution", s.RegexRewriteSubstitution)
	str("host_rewrite", s.HostRewrite)
	str("host_rewrite_header", s.HostRewriteHeader)
	str("host_path_regex_rewrite_pattern", s.HostPathRegexRewritePattern)
	str("host_path_regex_rewrite_substitution", s.HostPathRegexRewriteSubstitution)
	if s.RegexPriorityOrder != 0 {
		set("regex_priority_order", s.RegexPriorityOrder)
	}
	for _, d := range []struct{ field, key, v string }{{"timeout", "timeout", s.Timeout}, {"idleTimeout", "idle_timeout", s.IdleTimeout}} {
		if d.v == "" {
			continue
		}
		v, err := goDuration(d.v)
		if err != nil {
			return nil, fieldError(d.field, "%s", err)
		}
		set(d.key, v)
	}
	flag("allow_websockets", s.AllowWebsockets)
	flag("allow_spdy", s.AllowSpdy)
	flag("tls_skip_verify", s.TLSSkipVerify)
	str("tls_upstream_server_name", s.TLSUpstreamServerName)
	str("tls_downstream_server_name", s.TLSDownstreamServerName)
	flag("tls_upstream_allow_renegotiation", s.TLSUpstreamAllowRenegotiation)
	if len(s.SetRequestHeaders) > 0 {
		set("set_request_headers", s.SetRequestHeaders)
	}
	if len(s.SetResponseHeaders) > 0 {
		set("set_response_headers", s.SetResponseHeaders)
	}
	if len(s.RemoveRequestHeaders) > 0 {
		set("remove_request_headers", s.RemoveRequestHeaders)
	}
	flag("preserve_host_header", s.PreserveHostHeader)
	flag("pass_identity_headers", s.PassIdentityHeaders)
	str("kubernetes_service_account_token", s.KubernetesServiceAccountToken)
	flag("enable_google_cloud_serverless_authentication", s.EnableGoogleCloudServerlessAuth)
	str("jwt_issuer_format", s.JWTIssuerFormat)
	flag("show_error_details", s.ShowErrorDetails)
	if s.LoadBalancingPolicy != "" {
		set("lb_policy", strings.ToUpper(s.LoadBalancingPolicy))
	}
	str("idp_client_id", s.IdentityProviderClientID)
	str("idp_client_secret", s.IdentityProviderClientSecret)

	for _, o := range []struct {
		field, key string
		raw        json.RawMessage
		list       bool
	}{
		{"response", "response", s.Response, false},
		{"redirect", "redirect", s.Redirect, false},
		{"rewriteResponseHeaders", "rewrite_response_headers", s.RewriteResponseHeaders, true},
		{"healthCheck", "health_checks", s.HealthCheck, true},
	} {
		if len(o.raw) == 0 || string(o.raw) == "null" {
			continue
		}
		var v any
		if err := json.Unmarshal(o.raw, &v); err != nil {
			return nil, fieldError(o.field, "not valid JSON")
		}
		if isEmpty(v) {
			continue
		}
		v = snakeKeys(v)
		if _, isList := v.([]any); o.list && !isList {
			v = []any{v}
		}
		set(o.key, v)
	}

	for _, kp := range []struct {
		field, id string
		keys      []string
	}{
		{"tlsCustomCaKeyPairId", s.TLSCustomCaKeyPairID, []string{"tls_custom_ca"}},
		{"tlsClientKeyPairId", s.TLSClientKeyPairID, []string{"tls_client_cert", "tls_client_key"}},
		{"tlsDownstreamClientCaKeyPairId", s.TLSDownstreamClientCaKeyPairID, []string{"tls_downstream_client_ca"}},
	} {
		if kp.id == "" {
			continue
		}
		rec := deps.keyPairs[kp.id]
		if rec == nil {
			return nil, fieldError(kp.field, "no key pair %q (list them with GET keyPairs)", kp.id)
		}
		set(kp.keys[0], base64.StdEncoding.EncodeToString([]byte(rec.Certificate)))
		if len(kp.keys) > 1 {
			if rec.Key == "" {
				return nil, fieldError(kp.field, "key pair %q has no private key; a client certificate needs one", kp.id)
			}
			set(kp.keys[1], base64.StdEncoding.EncodeToString([]byte(rec.Key)))
		}
	}

	rules, err := routePolicy(s, deps)
	if err != nil {
		return nil, err
	}
	if len(rules) > 0 {
		set("policy", rules)
	}
	return m, nil
}

// routePolicy is the PPL of the route's policies and of every enforced
// policy, as one rule list: any allow lets a user in, any deny wins
// (Pomerium's rule for several policies on a route). No policy: nobody.
func routePolicy(s *RouteSpec, deps routeDeps) ([]any, error) {
	var rules []any
	seen := map[string]bool{}
	add := func(p *store.Policy) error {
		if seen[p.ID] {
			return nil
		}
		seen[p.ID] = true
		var v any
		if err := json.Unmarshal([]byte(p.PPL), &v); err != nil {
			return fmt.Errorf("policy %s holds invalid PPL: %w", p.ID, err)
		}
		if l, ok := v.([]any); ok {
			rules = append(rules, l...)
		} else if v != nil {
			rules = append(rules, v)
		}
		// The record's explanation and remediation travel as PPL's own
		// keys (a rule-less list item), so the 403 page shows them as it
		// shows a YAML policy's.
		if texts := policyTexts(p); texts != nil {
			rules = append(rules, texts)
		}
		return nil
	}
	for i, id := range s.PolicyIDs {
		p := deps.policies[id]
		if p == nil {
			return nil, fieldError(fmt.Sprintf("policyIds[%d]", i), "no policy %q (list them with GET policies)", id)
		}
		if err := add(p); err != nil {
			return nil, err
		}
	}
	for _, p := range deps.sortedPolicies() {
		if p.Enforced {
			if err := add(p); err != nil {
				return nil, err
			}
		}
	}
	return rules, nil
}

// policyTexts is {explanation, remediation} of p (the ones it has), or
// nil when it has neither.
func policyTexts(p *store.Policy) map[string]any {
	m := map[string]any{}
	if strings.TrimSpace(p.Explanation) != "" {
		m["explanation"] = p.Explanation
	}
	if strings.TrimSpace(p.Remediation) != "" {
		m["remediation"] = p.Remediation
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// routeParseError reports a config parser error under the API's field
// name: "routes[0] (from X): allow_spdy: ..." becomes "allowSpdy: ...".
func routeParseError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "): "); strings.HasPrefix(msg, "routes[0] (") && i > 0 {
		msg = msg[i+3:]
	} else {
		msg = strings.TrimPrefix(msg, "routes[0]: ")
	}
	if rest, ok := strings.CutPrefix(msg, "unknown key "); ok {
		key, _, _ := strings.Cut(strings.Trim(rest, `"`), `"`)
		if f := apiFieldForKey(key); f != "" {
			return fieldError(f, "not supported by this server")
		}
	}
	if rest, ok := strings.CutPrefix(msg, "not supported by pomerium-server: "); ok {
		key, why, _ := strings.Cut(rest, " ")
		if f := apiFieldForKey(key); f != "" {
			return fieldError(f, "not supported by this server %s", strings.TrimSpace(why))
		}
	}
	end := strings.IndexAny(msg, ":[ ")
	if end > 0 && (msg[end] == ':' || msg[end] == '[') {
		key := msg[:end]
		if f := apiFieldForKey(key); f != "" {
			if key == "policy" {
				return errorf(http.StatusBadRequest, "policyIds: the route's policies: %s", msg[end:])
			}
			return &Error{Status: http.StatusBadRequest, Message: f + msg[end:]}
		}
	}
	return errorf(http.StatusBadRequest, "route: %s", apiNames(msg))
}

// apiNames rewrites the config's key names in a cross-field message to
// the API's ("tls_* upstream settings" -> "tls* upstream settings").
func apiNames(msg string) string {
	msg = strings.ReplaceAll(msg, "tls_*", "tls*")
	keys := slices.Clone(routeFieldKeys)
	// Longest first: host_path_regex_rewrite_pattern holds regex_rewrite_pattern.
	slices.SortFunc(keys, func(a, b struct{ field, key string }) int { return len(b.key) - len(a.key) })
	for _, m := range keys {
		if strings.Contains(m.key, "_") {
			msg = strings.ReplaceAll(msg, m.key, m.field)
		}
	}
	return msg
}

// snakeKeys rewrites the object keys of v from the API's camelCase to
// the config's snake_case, at every depth.
func snakeKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[snake(k)] = snakeKeys(e)
		}
		return out
	case []any:
		for i := range t {
			t[i] = snakeKeys(t[i])
		}
	}
	return v
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

var durationRE = regexp.MustCompile(`^([0-9]+(y|w|d|h|ms|m|s))+$`)
var durationPartRE = regexp.MustCompile(`([0-9]+)(y|w|d|h|ms|m|s)`)

// goDuration turns the reference's Duration ("1d12h", "30s") into Go's
// spelling, which has no d, w or y.
func goDuration(s string) (string, error) {
	if !durationRE.MatchString(s) {
		return "", fmt.Errorf("want a duration like 30s, 5m or 1h30m, got %q", s)
	}
	var b strings.Builder
	for _, p := range durationPartRE.FindAllStringSubmatch(s, -1) {
		n, err := strconv.ParseInt(p[1], 10, 64)
		if err != nil || n > 1e6 {
			return "", fmt.Errorf("duration %q is out of range", s)
		}
		switch p[2] {
		case "y":
			b.WriteString(strconv.FormatInt(n*365*24, 10) + "h")
		case "w":
			b.WriteString(strconv.FormatInt(n*7*24, 10) + "h")
		case "d":
			b.WriteString(strconv.FormatInt(n*24, 10) + "h")
		default:
			b.WriteString(p[1] + p[2])
		}
	}
	return b.String(), nil
}

// sortedPolicies lists the policies in creation order, so that a route's
// rule list does not change from one compile to the next.
func (d routeDeps) sortedPolicies() []*store.Policy {
	ps := slices.Collect(maps.Values(d.policies))
	slices.SortFunc(ps, func(a, b *store.Policy) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ps
}
