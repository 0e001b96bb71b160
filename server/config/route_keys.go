package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// settingKeys are the Routes reference keys decoded into RouteSettings.
var settingKeys = []string{
	"regex", "regex_priority_order", "redirect",
	"prefix_rewrite", "regex_rewrite_pattern", "regex_rewrite_substitution",
	"preserve_host_header", "host_rewrite", "host_rewrite_header",
	"host_path_regex_rewrite_pattern", "host_path_regex_rewrite_substitution",
	"set_request_headers", "remove_request_headers", "set_response_headers", "rewrite_response_headers",
	"allow_spdy", "cors_allow_preflight",
	"kubernetes_service_account_token", "kubernetes_service_account_token_file",
	"show_error_details", "enable_google_cloud_serverless_authentication",
	"tls_skip_verify", "tls_server_name", "tls_upstream_server_name",
	"tls_custom_ca", "tls_custom_ca_file", "tls_client_cert", "tls_client_key",
	"tls_client_cert_file", "tls_client_key_file", "tls_upstream_allow_renegotiation",
	"tls_downstream_client_ca", "tls_downstream_client_ca_file",
	"lb_policy", "health_checks", "ring_hash_lb_config", "maglev_lb_config", "id",
}

// unsupportedRouteKeys are Pomerium route keys pomerium-server refuses,
// with why.
var unsupportedRouteKeys = map[string]string{
	"envoy_opts":                         "raw Envoy cluster options; there is no Envoy inside",
	"outlier_detection":                  "Envoy outlier detection; passive failover is built in: an upstream that fails to connect is skipped for 10s",
	"upstream_tunnel":                    "SSH upstream tunnels are not implemented",
	"mcp":                                "Model Context Protocol routes are not implemented",
	"idp_client_id":                      "one identity provider per server; set idp_client_id at the top level",
	"idp_client_secret":                  "one identity provider per server; set idp_client_secret at the top level",
	"idp_access_token_allowed_audiences": "access-token sign-in is not implemented",
	"set_authorization_header":           "removed from Pomerium; use set_request_headers",
	"allowed_groups":                     "removed from Pomerium; write policy: {allow: {or: [{groups: {has: NAME}}]}}",
	"tls_downstream_server_name":         "removed from Pomerium",
	"jwt_groups_filter":                  "group filtering of the assertion is not implemented",
	"jwt_issuer_format":                  "the assertion's issuer is always the route's host",
	"bearer_token_format":                "bearer tokens are always Pomerium session tokens",
	"depends_on":                         "there is no authenticate service on another host to depend on",
	"load_balancing_weights":             "write the weight after the upstream URL: to: [http://a:80,2]",
	"pass_identity_headers_per_claim":    "not a Pomerium key",
}

var lbPolicies = []string{"ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "RING_HASH", "MAGLEV"}

// settingFields adds the RouteSettings decoders to fields.
func (r *Route) settingFields(fields map[string]fieldFn) {
	s := &r.RouteSettings
	var id string
	var upstreamName string
	fields["regex"] = str(&s.Regex)
	fields["regex_priority_order"] = integer64(&s.RegexPriorityOrder)
	fields["redirect"] = func(n *yaml.Node) error { return decodeRedirect(n, &s.Redirect) }
	fields["prefix_rewrite"] = str(&s.PrefixRewrite)
	fields["regex_rewrite_pattern"] = str(&s.RegexRewritePattern)
	fields["regex_rewrite_substitution"] = str(&s.RegexRewriteSubstitution)
	fields["preserve_host_header"] = boolean(&s.PreserveHostHeader)
	fields["host_rewrite"] = str(&s.HostRewrite)
	fields["host_rewrite_header"] = str(&s.HostRewriteHeader)
	fields["host_path_regex_rewrite_pattern"] = str(&s.HostPathRegexRewritePattern)
	fields["host_path_regex_rewrite_substitution"] = str(&s.HostPathRegexRewriteSubstitution)
	fields["set_request_headers"] = strMap(&s.SetRequestHeaders)
	fields["remove_request_headers"] = strList(&s.RemoveRequestHeaders, false)
	fields["set_response_headers"] = strMap(&s.SetResponseHeaders)
	fields["rewrite_response_headers"] = func(n *yaml.Node) error { return decodeRewriteHeaders(n, &s.RewriteResponseHeaders) }
	fields["allow_spdy"] = boolean(&s.AllowSPDY)
	fields["cors_allow_preflight"] = boolean(&s.CORSAllowPreflight)
	fields["kubernetes_service_account_token"] = str(&s.KubernetesServiceAccountToken)
	fields["kubernetes_service_account_token_file"] = str(&s.KubernetesServiceAccountTokenFile)
	fields["show_error_details"] = optBool(&s.ShowErrorDetails)
	fields["enable_google_cloud_serverless_authentication"] = boolean(&s.EnableGoogleCloudServerlessAuthentication)
	fields["tls_skip_verify"] = boolean(&s.TLSSkipVerify)
	fields["tls_server_name"] = str(&s.TLSServerName)
	fields["tls_custom_ca"] = str(&s.TLSCustomCA)
	fields["tls_custom_ca_file"] = str(&s.TLSCustomCAFile)
	fields["tls_client_cert"] = str(&s.TLSClientCert)
	fields["tls_client_key"] = str(&s.TLSClientKey)
	fields["tls_client_cert_file"] = str(&s.TLSClientCertFile)
	fields["tls_client_key_file"] = str(&s.TLSClientKeyFile)
	fields["tls_upstream_allow_renegotiation"] = boolean(&s.TLSUpstreamAllowRenegotiation)
	fields["tls_downstream_client_ca"] = str(&s.TLSDownstreamClientCA)
	fields["tls_downstream_client_ca_file"] = str(&s.TLSDownstreamClientCAFile)
	fields["lb_policy"] = func(n *yaml.Node) error {
		if err := str(&s.LBPolicy)(n); err != nil {
			return err
		}
		s.LBPolicy = strings.ToUpper(s.LBPolicy)
		if s.LBPolicy != "" && !slices.Contains(lbPolicies, s.LBPolicy) {
			return fmt.Errorf("want one of %s, got %q", strings.Join(lbPolicies, ", "), oneLine(n.Value))
		}
		return nil
	}
	fields["health_checks"] = func(n *yaml.Node) error { return decodeHealthChecks(n, &s.HealthChecks) }
	fields["ring_hash_lb_config"] = intMap("minimum_ring_size", "maximum_ring_size", "hash_function")
	fields["maglev_lb_config"] = intMap("table_size")
	fields["id"] = str(&id)
	// tls_upstream_server_name is Pomerium's newer name for tls_server_name.
	fields["tls_upstream_server_name"] = func(n *yaml.Node) error {
		if err := str(&upstreamName)(n); err != nil {
			return err
		}
		if s.TLSServerName != "" && upstreamName != "" && s.TLSServerName != upstreamName {
			return errors.New("set at most one of tls_server_name and tls_upstream_server_name")
		}
		if upstreamName != "" {
			s.TLSServerName = upstreamName
		}
		return nil
	}
}

// validateSettings checks RouteSettings and fills its derived fields.
func (r *Route) validateSettings() error {
	s := &r.RouteSettings
	var err error
	compile := func(key, pat string) (*regexp.Regexp, error) {
		if pat == "" {
			return nil, nil
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("%s: not a valid regular expression (Go RE2 syntax): %w", key, err)
		}
		return re, nil
	}
	if s.RegexRE, err = compile("regex", s.Regex); err != nil {
		return err
	}
	if s.RegexRewriteRE, err = compile("regex_rewrite_pattern", s.RegexRewritePattern); err != nil {
		return err
	}
	if s.HostPathRegexRewriteRE, err = compile("host_path_regex_rewrite_pattern", s.HostPathRegexRewritePattern); err != nil {
		return err
	}
	if r.Type != "http" {
		for _, k := range []struct {
			key string
			set bool
		}{{"regex", s.Regex != ""}, {"redirect", s.Redirect != nil}, {"prefix_rewrite", s.PrefixRewrite != ""},
			{"regex_rewrite_pattern", s.RegexRewritePattern != ""}, {"set_request_headers", s.SetRequestHeaders != nil},
			{"host_rewrite", s.HostRewrite != ""}, {"cors_allow_preflight", s.CORSAllowPreflight}} {
			if k.set {
				return fmt.Errorf("%s: only for https routes (this is a %s route)", k.key, r.Type)
			}
		}
	}
	if s.RegexRewriteSubstitution != "" && s.RegexRewritePattern == "" {
		return errors.New("regex_rewrite_substitution: needs regex_rewrite_pattern")
	}
	if (s.HostPathRegexRewritePattern == "") != (s.HostPathRegexRewriteSubstitution == "") {
		return errors.New("host_path_regex_rewrite_pattern and host_path_regex_rewrite_substitution: set both or neither")
	}
	if s.PrefixRewrite != "" && !strings.HasPrefix(s.PrefixRewrite, "/") {
		return fmt.Errorf("prefix_rewrite: must start with /, got %q", oneLine(s.PrefixRewrite))
	}
	hostOpts := 0
	for _, set := range []bool{s.PreserveHostHeader, s.HostRewrite != "", s.HostRewriteHeader != "", s.HostPathRegexRewritePattern != ""} {
		if set {
			hostOpts++
		}
	}
	if hostOpts > 1 {
		return errors.New("preserve_host_header, host_rewrite, host_rewrite_header and host_path_regex_rewrite_pattern are mutually exclusive; set one")
	}
	if s.HostRewrite != "" && strings.ContainsAny(s.HostRewrite, "/ @?#") {
		return fmt.Errorf("host_rewrite: want a host or host:port, got %q", oneLine(s.HostRewrite))
	}
	for k, v := range s.SetRequestHeaders {
		if err := checkHeaderName("set_request_headers", k, true); err != nil {
			return err
		}
		if err := checkHeaderValue("set_request_headers", k, v); err != nil {
			return err
		}
	}
	for _, k := range s.RemoveRequestHeaders {
		if err := checkHeaderName("remove_request_headers", k, true); err != nil {
			return err
		}
	}
	for k, v := range s.SetResponseHeaders {
		if err := checkHeaderName("set_response_headers", k, false); err != nil {
			return err
		}
		if err := checkHeaderValue("set_response_headers", k, v); err != nil {
			return err
		}
	}
	for i, h := range s.RewriteResponseHeaders {
		if err := checkHeaderName(fmt.Sprintf("rewrite_response_headers[%d].header", i), h.Header, false); err != nil {
			return err
		}
		if err := checkHeaderValue(fmt.Sprintf("rewrite_response_headers[%d]", i), "value", h.Value); err != nil {
			return err
		}
	}
	if s.Redirect != nil && len(r.To) > 0 {
		return errors.New("redirect and to: set one (a redirect route has no upstream)")
	}
	if s.KubernetesServiceAccountToken != "" && s.KubernetesServiceAccountTokenFile != "" {
		return errors.New("kubernetes_service_account_token and kubernetes_service_account_token_file: set at most one")
	}
	s.KubernetesToken = s.KubernetesServiceAccountToken
	if f := s.KubernetesServiceAccountTokenFile; f != "" {
		b, err := readSmall(f)
		if err != nil {
			return fmt.Errorf("kubernetes_service_account_token_file: %w", err)
		}
		s.KubernetesToken = strings.TrimSpace(string(b))
	}
	if len(s.HealthChecks) > 0 && len(r.To) == 0 {
		return errors.New("health_checks: the route has no upstreams to check")
	}
	for i, hc := range s.HealthChecks {
		if r.Type != "http" && !hc.TCP {
			return fmt.Errorf("health_checks[%d]: a %s route's upstreams are checked with tcp_health_check, not http_health_check", i, r.Type)
		}
	}
	if err := r.buildUpstreamTLS(); err != nil {
		return err
	}
	pool, err := pemPool("tls_downstream_client_ca", s.TLSDownstreamClientCA, "tls_downstream_client_ca_file", s.TLSDownstreamClientCAFile)
	if err != nil {
		return err
	}
	s.DownstreamClientCAs, s.ClientCertEnforcement = pool, "policy_with_default_deny"
	if g := s.globalMTLS; pool == nil && g != nil && g.Pool != nil {
		s.DownstreamClientCAs, s.ClientCertEnforcement, s.ClientCertMaxDepth = g.Pool, g.Enforcement, int(g.MaxVerifyDepth)
	}
	return nil
}

// checkHeaderName refuses names that are not HTTP tokens, and (for
// request headers) Host and pseudo-headers, which the reference says
// cannot be set this way.
func checkHeaderName(key, name string, request bool) error {
	if name == "" || strings.IndexFunc(name, func(c rune) bool {
		return c <= ' ' || c >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c)
	}) >= 0 {
		if strings.HasPrefix(name, ":") {
			return fmt.Errorf("%s: pseudo-header %q cannot be set; use prefix_rewrite, regex_rewrite_* or host_rewrite", key, name)
		}
		return fmt.Errorf("%s: %q is not a valid header name", key, oneLine(name))
	}
	if request && strings.EqualFold(name, "Host") {
		return fmt.Errorf("%s: Host cannot be set this way; use host_rewrite or preserve_host_header", key)
	}
	return nil
}

// checkHeaderValue refuses control characters (a newline would start a
// header of the file's choosing).
func checkHeaderValue(key, name, v string) error {
	if strings.IndexFunc(v, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) >= 0 {
		return fmt.Errorf("%s: %s: the value holds a control character (newline?), got %q", key, oneLine(name), v)
	}
	return nil
}

// buildUpstreamTLS turns the tls_* settings into UpstreamTLS.
func (r *Route) buildUpstreamTLS() error {
	s := &r.RouteSettings
	if s.TLSClientCert != "" && s.TLSClientCertFile != "" || s.TLSClientKey != "" && s.TLSClientKeyFile != "" {
		return errors.New("tls_client_cert/tls_client_key and their _file forms: set one form")
	}
	roots, err := pemPool("tls_custom_ca", s.TLSCustomCA, "tls_custom_ca_file", s.TLSCustomCAFile)
	if err != nil {
		return err
	}
	var certs []tls.Certificate
	certPEM, err := pemValue("tls_client_cert", s.TLSClientCert, "tls_client_cert_file", s.TLSClientCertFile)
	if err != nil {
		return err
	}
	keyPEM, err := pemValue("tls_client_key", s.TLSClientKey, "tls_client_key_file", s.TLSClientKeyFile)
	if err != nil {
		return err
	}
	switch {
	case certPEM != nil && keyPEM != nil:
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return keyPairError("tls_client_cert", "tls_client_key", "tls_client_cert/tls_client_key", err)
		}
		certs = []tls.Certificate{c}
	case certPEM != nil || keyPEM != nil:
		return errors.New("tls_client_cert and tls_client_key: set both (or both _file forms)")
	}
	usesTLS := false
	for _, u := range r.To {
		if u.URL != nil && u.URL.Scheme == "https" {
			usesTLS = true
		}
	}
	any := s.TLSSkipVerify || s.TLSServerName != "" || roots != nil || certs != nil || s.TLSUpstreamAllowRenegotiation
	if any && !usesTLS && r.Type == "http" {
		return errors.New("tls_* upstream settings need an https:// upstream in to")
	}
	if roots == nil && len(s.UpstreamRoots) > 0 && usesTLS {
		// certificate_authority adds to the system roots.
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(s.UpstreamRoots) {
			return errors.New("certificate_authority: no CERTIFICATE in the PEM")
		}
		any = true
	}
	if !any {
		return nil
	}
	cfg := &tls.Config{
		RootCAs:            roots,
		ServerName:         s.TLSServerName,
		Certificates:       certs,
		InsecureSkipVerify: s.TLSSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
	if s.TLSUpstreamAllowRenegotiation {
		cfg.Renegotiation = tls.RenegotiateFreelyAsClient
	}
	s.UpstreamTLS = cfg
	return nil
}

// pemValue returns the PEM bytes of a base64 setting or a file setting.
func pemValue(key, b64, fileKey, file string) ([]byte, error) {
	switch {
	case b64 != "" && file != "":
		return nil, fmt.Errorf("%s and %s: set one", key, fileKey)
	case b64 != "":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("%s: want base64 of PEM (base64 -w0 FILE), or use %s", key, fileKey)
		}
		if blk, _ := pem.Decode(b); blk == nil {
			return nil, fmt.Errorf("%s: the base64 does not hold PEM", key)
		}
		return b, nil
	case file != "":
		b, err := readSmall(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fileKey, err)
		}
		if blk, _ := pem.Decode(b); blk == nil {
			return nil, fmt.Errorf("%s: %s holds no PEM block; want a PEM file (-----BEGIN ...-----)", fileKey, file)
		}
		return b, nil
	}
	return nil, nil
}

func pemPool(key, b64, fileKey, file string) (*x509.CertPool, error) {
	b, err := pemValue(key, b64, fileKey, file)
	if err != nil || b == nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		k := key
		if file != "" {
			k = fileKey
		}
		return nil, fmt.Errorf("%s: no CERTIFICATE in the PEM; want CA certificates (-----BEGIN CERTIFICATE-----)", k)
	}
	return pool, nil
}

func decodeRedirect(n *yaml.Node, dst **Redirect) error {
	if yamlnode.IsNull(n) {
		return nil
	}
	rd := &Redirect{}
	keys := []string{"https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect", "prefix_rewrite", "response_code", "strip_query"}
	var port, code int64
	err := decodeMap(n, keys, map[string]fieldFn{
		"https_redirect":  boolean(&rd.HTTPSRedirect),
		"scheme_redirect": str(&rd.SchemeRedirect),
		"host_redirect":   str(&rd.HostRedirect),
		"port_redirect":   integer64(&port),
		"path_redirect":   str(&rd.PathRedirect),
		"prefix_rewrite":  str(&rd.PrefixRewrite),
		"response_code":   integer64(&code),
		"strip_query":     boolean(&rd.StripQuery),
	})
	if err != nil {
		return err
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("port_redirect: want 1-65535, got %d", port)
	}
	rd.PortRedirect = int(port)
	switch code {
	case 0:
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		rd.ResponseCode = int(code)
	default:
		return fmt.Errorf("response_code: want 301, 302, 303, 307 or 308, got %d", code)
	}
	if rd.SchemeRedirect != "" && rd.SchemeRedirect != "http" && rd.SchemeRedirect != "https" {
		return fmt.Errorf("scheme_redirect: want http or https, got %q", oneLine(rd.SchemeRedirect))
	}
	if rd.HTTPSRedirect && rd.SchemeRedirect != "" {
		return errors.New("https_redirect and scheme_redirect: set one")
	}
	if rd.PathRedirect != "" && rd.PrefixRewrite != "" {
		return errors.New("path_redirect and prefix_rewrite: set one")
	}
	if rd.HostRedirect != "" && strings.ContainsAny(rd.HostRedirect, "/ @?#:") {
		return fmt.Errorf("host_redirect: want a host name (port goes in port_redirect), got %q", oneLine(rd.HostRedirect))
	}
	for _, p := range []struct{ k, v string }{{"path_redirect", rd.PathRedirect}, {"prefix_rewrite", rd.PrefixRewrite}} {
		if p.v != "" && !strings.HasPrefix(p.v, "/") {
			return fmt.Errorf("%s: must start with /, got %q", p.k, oneLine(p.v))
		}
	}
	*dst = rd
	return nil
}

func decodeRewriteHeaders(n *yaml.Node, dst *[]RewriteHeader) error {
	return decodeList(n, dst, "{header, prefix, value}", func(e *yaml.Node) (RewriteHeader, error) {
		var h RewriteHeader
		err := decodeMap(e, []string{"header", "prefix", "value"}, map[string]fieldFn{
			"header": str(&h.Header), "prefix": str(&h.Prefix), "value": str(&h.Value),
		})
		if err == nil && h.Header == "" {
			err = errors.New("header: required")
		}
		return h, err
	})
}

// strMap decodes a map of header name to string value.
func strMap(dst *map[string]string) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("want a map of name: value, got %s", yamlnode.KindName(n))
		}
		out := map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, yamlnode.Resolve(n.Content[i+1])
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: want a string, got %s", oneLine(k), yamlnode.KindName(v))
			}
			out[k] = v.Value
		}
		*dst = out
		return nil
	}
}

func integer64(dst *int64) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return fmt.Errorf("want a whole number, got %s %q", yamlnode.KindName(n), oneLine(n.Value))
		}
		v, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", oneLine(n.Value))
		}
		*dst = v
		return nil
	}
}

// intMap accepts a map of the given keys with whole-number values (the
// Envoy tuning blocks whose numbers do not change behaviour here).
func intMap(keys ...string) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		fields := map[string]fieldFn{}
		for _, k := range keys {
			var v int64
			if k == "hash_function" {
				var s string
				fields[k] = str(&s)
				continue
			}
			fields[k] = integer64(&v)
		}
		return decodeMap(n, keys, fields)
	}
}
