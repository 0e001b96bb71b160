package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// Settings are the top-level keys beyond the core ones in Config:
// certificates, metrics, timeouts, header defaults.
type Settings struct {
	Certificate, CertificateKey string // base64 PEM
	Certificates                []CertPair
	CertificateAuthority        string // base64 PEM: extra roots for https upstreams
	CertificateAuthorityFile    string

	IdpProvider      string
	IdpRequestParams map[string]string

	LogLevel      string
	ProxyLogLevel string

	MetricsAddress   string
	MetricsBasicAuth string // base64 of user:password

	DefaultUpstreamTimeout time.Duration
	HTTPRedirectAddr       string
	CodecType              string // auto (default), http1, http2

	JWTClaimsHeaders    []ClaimHeader
	PassIdentityHeaders *bool
	SetResponseHeaders  map[string]string
	SkipXFFAppend       bool
	XFFNumTrustedHops   int64

	GoogleCloudServerlessAuthenticationServiceAccount string

	// DownstreamMTLS is downstream_mtls (client_ca/client_ca_file are
	// Pomerium's older names for its ca/ca_file).
	DownstreamMTLS DownstreamMTLS

	// fromFiles are the *_file secrets read, by key, until validation
	// moves them into place.
	fromFiles map[string]string

	// Derived by validation.
	TLSCertificates []tls.Certificate // every certificate source, loaded
	UpstreamRoots   []byte            // PEM of certificate_authority(_file)
}

// DownstreamMTLS is the server-wide client certificate setting.
type DownstreamMTLS struct {
	CA, CAFile string
	// Enforcement: policy_with_default_deny (default: a request without a
	// valid client certificate gets 495), policy (the certificate only
	// feeds client_certificate criteria), reject_connection (the TLS
	// handshake requires one).
	Enforcement    string
	MaxVerifyDepth int64 // 0: no limit

	Pool *x509.CertPool // derived
}

// CertPair is one `certificates` entry: file paths (or base64 PEM).
type CertPair struct{ Cert, Key string }

var settingsTopKeys = []string{
	"certificate", "certificate_key", "certificates", "certificate_authority", "certificate_authority_file",
	"idp_provider", "idp_request_params", "idp_client_secret_file", "shared_secret_file", "cookie_secret_file",
	"log_level", "proxy_log_level", "metrics_address", "metrics_basic_auth",
	"default_upstream_timeout", "http_redirect_addr", "codec_type",
	"jwt_claims_headers", "pass_identity_headers", "set_response_headers", "skip_xff_append", "xff_num_trusted_hops",
	"google_cloud_serverless_authentication_service_account", "services", "policy",
	"downstream_mtls", "client_ca", "client_ca_file",
	"cookie_name", "cookie_secure", "cookie_http_only", "cookie_same_site",
}

// fixedCookieKeys are Pomerium cookie settings whose behaviour is fixed
// here: a config that states the value we always use loads (many real
// configs spell out the defaults); any other value is refused with why.
var fixedCookieKeys = map[string][2]string{
	"cookie_name":      {"_pomerium", "the session cookie is always _pomerium"},
	"cookie_secure":    {"true", "session cookies are always Secure"},
	"cookie_http_only": {"true", "session cookies are always HttpOnly"},
	"cookie_same_site": {"lax", "session cookies are always SameSite=Lax"},
}

// fixedValue accepts key only with the value want (any case).
func fixedValue(key, want, why string) fieldFn {
	return func(n *yaml.Node) error {
		var v string
		if err := str(&v)(n); err != nil {
			return err
		}
		if v != "" && !strings.EqualFold(strings.TrimSpace(v), want) {
			return fmt.Errorf("not supported by pomerium-server: %s %s (%s)", key, oneLine(v), why)
		}
		return nil
	}
}

// unsupportedTopKeys are Pomerium keys refused with why.
var unsupportedTopKeys = map[string]string{
	"autocert":                           "ACME needs public DNS and inbound port 443; use certificates or certificate_file",
	"autocert_dir":                       "autocert is not supported",
	"autocert_email":                     "autocert is not supported",
	"autocert_use_staging":               "autocert is not supported",
	"autocert_must_staple":               "autocert is not supported",
	"autocert_ca":                        "autocert is not supported",
	"autocert_eab_key_id":                "autocert is not supported",
	"autocert_eab_mac_key":               "autocert is not supported",
	"autocert_trusted_ca":                "autocert is not supported",
	"insecure_server":                    "the server always serves TLS",
	"grpc_address":                       "all-in-one: there is no gRPC between services",
	"grpc_insecure":                      "all-in-one: there is no gRPC between services",
	"grpc_client_timeout":                "all-in-one: there is no gRPC between services",
	"authorize_service_url":              "all-in-one: authorization runs in-process",
	"authorize_internal_service_url":     "all-in-one: authorization runs in-process",
	"databroker_service_url":             "all-in-one: the databroker runs in-process",
	"databroker_service_urls":            "all-in-one: the databroker runs in-process",
	"databroker_internal_service_url":    "all-in-one: the databroker runs in-process",
	"authenticate_internal_service_url":  "all-in-one: sign-in runs in-process",
	"authenticate_callback_path":         "the identity provider always returns to /oauth2/callback on the authenticate host",
	"forward_auth_url":                   "forward-auth mode is not implemented",
	"tracing_provider":                   "no tracing exporter is built in",
	"tracing_sample_rate":                "no tracing exporter is built in",
	"tracing_jaeger_collector_endpoint":  "no tracing exporter is built in",
	"tracing_jaeger_agent_endpoint":      "no tracing exporter is built in",
	"tracing_zipkin_endpoint":            "no tracing exporter is built in",
	"tracing_datadog_address":            "no tracing exporter is built in",
	"otel_traces_exporter":               "no tracing exporter is built in",
	"otel_exporter_otlp_endpoint":        "no tracing exporter is built in",
	"envoy_admin_address":                "there is no Envoy inside",
	"envoy_admin_access_log_path":        "there is no Envoy inside",
	"envoy_admin_profile_path":           "there is no Envoy inside",
	"envoy_bind_config_source_address":   "there is no Envoy inside",
	"envoy_bind_config_freebind":         "there is no Envoy inside",
	"use_proxy_protocol":                 "PROXY protocol is not implemented",
	"dns_lookup_family":                  "upstreams are resolved by the system resolver",
	"metrics_certificate":                "metrics are served over plain HTTP; bind metrics_address to loopback or a private address",
	"metrics_certificate_key":            "metrics are served over plain HTTP; bind metrics_address to loopback or a private address",
	"metrics_client_ca":                  "metrics are served over plain HTTP; use metrics_basic_auth",
	"client_crl":                         "certificate revocation lists are not implemented",
	"client_crl_file":                    "certificate revocation lists are not implemented",
	"signing_key":                        "assertions are signed with a key derived from shared_secret (published at /.well-known/pomerium/jwks.json)",
	"signing_key_file":                   "assertions are signed with a key derived from shared_secret (published at /.well-known/pomerium/jwks.json)",
	"idp_service_account":                "directory sync was removed from Pomerium; groups come from the ID token",
	"idp_refresh_directory_timeout":      "directory sync was removed from Pomerium; groups come from the ID token",
	"idp_refresh_directory_interval":     "directory sync was removed from Pomerium; groups come from the ID token",
	"headers":                            "renamed set_response_headers in Pomerium",
	"access_log_fields":                  "the access log's fields are fixed (method, host, path, proto, status, duration)",
	"authorize_log_fields":               "the authorization log's fields are fixed",
	"cookie_domain":                      "session cookies are host-only",
	"installation_id":                    "only meaningful to Pomerium Enterprise",
	"runtime_flags":                      "Pomerium's runtime flags toggle Envoy features",
	"bearer_token_format":                "bearer tokens are always Pomerium session tokens",
	"idp_access_token_allowed_audiences": "access-token sign-in is not implemented",
	"circuit_breaker_thresholds":         "Envoy circuit breakers; there is no Envoy inside",
	"ssh_address":                        "SSH routes are not implemented",
	"debug":                              "use log_level: debug",
}

// settingsFields adds the Settings decoders to fields.
func (c *Config) settingsFields(fields map[string]fieldFn, routesNode **yaml.Node) {
	s := &c.Settings
	var clientSecretFile, sharedFile, cookieFile string
	fileInto := func(file *string, _ *string, key string) fieldFn {
		return func(n *yaml.Node) error {
			if err := str(file)(n); err != nil || *file == "" {
				return err
			}
			b, err := readSmall(*file)
			if err != nil {
				return err
			}
			if s.fromFiles == nil {
				s.fromFiles = map[string]string{}
			}
			s.fromFiles[key] = strings.TrimSpace(string(b))
			return nil
		}
	}
	fields["certificate"] = str(&s.Certificate)
	fields["certificate_key"] = str(&s.CertificateKey)
	fields["certificates"] = func(n *yaml.Node) error { return decodeCertPairs(n, &s.Certificates) }
	fields["certificate_authority"] = str(&s.CertificateAuthority)
	fields["certificate_authority_file"] = str(&s.CertificateAuthorityFile)
	fields["idp_provider"] = str(&s.IdpProvider)
	fields["idp_request_params"] = strMap(&s.IdpRequestParams)
	fields["idp_client_secret_file"] = fileInto(&clientSecretFile, &c.IdpClientSecret, "idp_client_secret")
	fields["shared_secret_file"] = fileInto(&sharedFile, &c.SharedSecret, "shared_secret")
	fields["cookie_secret_file"] = fileInto(&cookieFile, &c.CookieSecret, "cookie_secret")
	for k, fv := range fixedCookieKeys {
		fields[k] = fixedValue(k, fv[0], fv[1])
	}
	fields["log_level"] = str(&s.LogLevel)
	fields["proxy_log_level"] = str(&s.ProxyLogLevel)
	fields["metrics_address"] = str(&s.MetricsAddress)
	fields["metrics_basic_auth"] = str(&s.MetricsBasicAuth)
	fields["default_upstream_timeout"] = duration(&s.DefaultUpstreamTimeout, nil)
	fields["http_redirect_addr"] = str(&s.HTTPRedirectAddr)
	fields["codec_type"] = str(&s.CodecType)
	fields["jwt_claims_headers"] = claimHeaders(&s.JWTClaimsHeaders)
	fields["pass_identity_headers"] = optBool(&s.PassIdentityHeaders)
	fields["set_response_headers"] = strMap(&s.SetResponseHeaders)
	fields["skip_xff_append"] = boolean(&s.SkipXFFAppend)
	fields["xff_num_trusted_hops"] = integer64(&s.XFFNumTrustedHops)
	fields["google_cloud_serverless_authentication_service_account"] = str(&s.GoogleCloudServerlessAuthenticationServiceAccount)
	fields["services"] = func(n *yaml.Node) error {
		var v string
		if err := str(&v)(n); err != nil {
			return err
		}
		if v != "" && v != "all" {
			return fmt.Errorf("only all (all-in-one) is supported, got %q", oneLine(v))
		}
		return nil
	}
	fields["downstream_mtls"] = func(n *yaml.Node) error {
		m := &s.DownstreamMTLS
		return decodeMapWith(n, []string{"ca", "ca_file", "enforcement", "max_verify_depth", "match_subject_alt_names"}, map[string]fieldFn{
			"ca": str(&m.CA), "ca_file": str(&m.CAFile), "enforcement": str(&m.Enforcement), "max_verify_depth": integer64(&m.MaxVerifyDepth),
		}, map[string]string{"match_subject_alt_names": "match names with the client_certificate criterion (san_email, san_dns) in the route's policy"})
	}
	fields["client_ca"] = str(&s.DownstreamMTLS.CA)
	fields["client_ca_file"] = str(&s.DownstreamMTLS.CAFile)
	// `policy:` at the top level is Pomerium's old name for routes.
	fields["policy"] = func(n *yaml.Node) error {
		if *routesNode != nil {
			return errors.New("set routes or its old name policy, not both")
		}
		*routesNode = n
		return nil
	}
}

// ClaimHeader is one jwt_claims_headers entry: the upstream request
// header that carries an ID token claim.
type ClaimHeader struct{ Header, Claim string }

// claimHeaders accepts jwt_claims_headers in Pomerium's two forms: a list
// of claim names (or a comma string), each sent as X-Pomerium-Claim-<name>,
// or a map of header name to claim name (X-Email: email).
func claimHeaders(dst *[]ClaimHeader) fieldFn {
	var names []string
	list := strList(&names, true)
	return func(n *yaml.Node) error {
		if n.Kind != yaml.MappingNode {
			if err := list(n); err != nil {
				return err
			}
			for _, c := range names {
				*dst = append(*dst, ClaimHeader{Header: "X-Pomerium-Claim-" + c, Claim: c})
			}
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			h, v := n.Content[i].Value, yamlnode.Resolve(n.Content[i+1])
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return fmt.Errorf("%s: want a claim name, e.g. X-Email: email", oneLine(h))
			}
			*dst = append(*dst, ClaimHeader{Header: h, Claim: v.Value})
		}
		return nil
	}
}

func decodeCertPairs(n *yaml.Node, dst *[]CertPair) error {
	return decodeList(n, dst, "{cert: FILE, key: FILE}", func(e *yaml.Node) (CertPair, error) {
		var p CertPair
		err := decodeMap(e, []string{"cert", "key"}, map[string]fieldFn{"cert": str(&p.Cert), "key": str(&p.Key)})
		if err == nil && (p.Cert == "" || p.Key == "") {
			err = errors.New("cert and key: both required")
		}
		return p, err
	})
}

var logLevels = []string{"debug", "info", "warn", "error"}

// applySecretFiles moves *_file secrets into place, refusing a secret
// given both ways.
func (c *Config) applySecretFiles() error {
	for _, k := range []struct {
		key string
		dst *string
	}{{"idp_client_secret", &c.IdpClientSecret}, {"shared_secret", &c.SharedSecret}, {"cookie_secret", &c.CookieSecret}} {
		v, ok := c.fromFiles[k.key]
		if !ok {
			continue
		}
		if *k.dst != "" {
			return fmt.Errorf("%s and %s_file: set one, not both", k.key, k.key)
		}
		*k.dst = v
	}
	c.fromFiles = nil
	return nil
}

// validateSettings checks Settings (certificates are loaded later, by
// LoadCertificates).
func (c *Config) validateSettings() error {
	s := &c.Settings
	if (s.Certificate == "") != (s.CertificateKey == "") {
		return errors.New("certificate and certificate_key: set both or neither")
	}
	for _, v := range []struct{ k, v string }{{"certificate", s.Certificate}, {"certificate_key", s.CertificateKey}} {
		if v.v == "" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(v.v); err != nil || !bytes.Contains(b, []byte("-----BEGIN")) {
			return fmt.Errorf("%s: want base64 of the PEM file (base64 -w0 FILE); for a path use %s_file", v.k, v.k)
		}
	}
	for _, l := range []struct{ k, v string }{{"log_level", s.LogLevel}, {"proxy_log_level", s.ProxyLogLevel}} {
		v := strings.ToLower(l.v)
		if v == "warning" {
			v = "warn"
		}
		if l.v != "" && !slices.Contains(logLevels, v) {
			return fmt.Errorf("%s: want debug, info, warn or error, got %q", l.k, oneLine(l.v))
		}
	}
	if s.LogLevel == "warning" {
		s.LogLevel = "warn"
	}
	switch strings.ToLower(s.IdpProvider) {
	case "", "oidc", "google", "okta", "auth0", "azure", "keycloak", "onelogin", "ping", "cognito", "gitlab":
	case "github", "apple":
		return fmt.Errorf("not supported by pomerium-server: idp_provider %s (it is not OpenID Connect; use an OIDC provider)", s.IdpProvider)
	default:
		return fmt.Errorf("idp_provider: unknown provider %q; use oidc (or google, okta, auth0, azure, keycloak, onelogin, ping, cognito, gitlab) with idp_provider_url", oneLine(s.IdpProvider))
	}
	for _, a := range []struct{ k, v string }{{"metrics_address", s.MetricsAddress}, {"http_redirect_addr", s.HTTPRedirectAddr}} {
		if a.v == "" {
			continue
		}
		// Port 0 (pick a free one) is allowed: tests and ephemeral setups.
		if _, p, err := net.SplitHostPort(a.v); err != nil || p != "0" {
			if _, err := hostPort(a.v); err != nil {
				return fmt.Errorf("%s: %w (e.g. 127.0.0.1:9090)", a.k, err)
			}
		}
	}
	if s.MetricsBasicAuth != "" {
		b, err := base64.StdEncoding.DecodeString(s.MetricsBasicAuth)
		if err != nil || !strings.Contains(string(b), ":") {
			return errors.New("metrics_basic_auth: want base64 of user:password (echo -n user:pass | base64)")
		}
		if s.MetricsAddress == "" {
			return errors.New("metrics_basic_auth: needs metrics_address")
		}
	}
	switch s.CodecType {
	case "", "auto", "http1", "http2":
	default:
		return fmt.Errorf("codec_type: want auto, http1 or http2, got %q", oneLine(s.CodecType))
	}
	for k := range s.IdpRequestParams {
		switch k {
		case "state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri", "client_id", "response_type", "scope":
			return fmt.Errorf("idp_request_params: %s is set by the sign-in flow itself and cannot be configured", k)
		}
	}
	if s.XFFNumTrustedHops < 0 || s.XFFNumTrustedHops > 32 {
		return fmt.Errorf("xff_num_trusted_hops: want 0-32, got %d", s.XFFNumTrustedHops)
	}
	for k := range s.SetResponseHeaders {
		if err := checkHeaderName("set_response_headers", k, false); err != nil {
			return err
		}
	}
	for _, h := range s.JWTClaimsHeaders {
		if err := checkHeaderName("jwt_claims_headers", h.Header, true); err != nil {
			return err
		}
	}
	roots, err := pemValue("certificate_authority", s.CertificateAuthority, "certificate_authority_file", s.CertificateAuthorityFile)
	if err != nil {
		return err
	}
	s.UpstreamRoots = roots
	m := &s.DownstreamMTLS
	switch m.Enforcement {
	case "", "policy_with_default_deny", "policy", "reject_connection":
	default:
		return fmt.Errorf("downstream_mtls: enforcement: want policy_with_default_deny, policy or reject_connection, got %q", oneLine(m.Enforcement))
	}
	if m.MaxVerifyDepth < 0 || m.MaxVerifyDepth > 32 {
		return fmt.Errorf("downstream_mtls: max_verify_depth: want 0-32, got %d", m.MaxVerifyDepth)
	}
	if m.Pool, err = pemPool("downstream_mtls: ca", m.CA, "downstream_mtls: ca_file", m.CAFile); err != nil {
		return err
	}
	if m.Pool == nil && (m.Enforcement != "" || m.MaxVerifyDepth != 0) {
		return errors.New("downstream_mtls: needs ca or ca_file")
	}
	if m.Enforcement == "" {
		m.Enforcement = "policy_with_default_deny"
	}
	return nil
}

// LoadCertificates loads certificate_file/_key_file, certificate/
// certificate_key (base64) and every `certificates` entry; the server
// picks among them by SNI.
// The server calls it at start-up and on reload (Parse does not, so a
// config can be parsed where its files do not exist).
func (c *Config) LoadCertificates() error {
	s := &c.Settings
	s.TLSCertificates = nil
	if (s.Certificate == "") != (s.CertificateKey == "") {
		return errors.New("certificate and certificate_key: set both or neither")
	}
	if s.Certificate != "" {
		cert, err := base64.StdEncoding.DecodeString(s.Certificate)
		key, err2 := base64.StdEncoding.DecodeString(s.CertificateKey)
		if err != nil || err2 != nil {
			return errors.New("certificate and certificate_key: want base64 of the PEM files (base64 -w0 FILE); for paths use certificate_file")
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return keyPairError("certificate", "certificate_key", "certificate/certificate_key", err)
		}
		s.TLSCertificates = append(s.TLSCertificates, pair)
	}
	if c.CertificateFile != "" {
		pair, err := loadKeyPair("certificate_file", "certificate_key_file", c.CertificateFile, c.CertificateKeyFile)
		if err != nil {
			return err
		}
		s.TLSCertificates = append(s.TLSCertificates, pair)
	}
	for i, p := range s.Certificates {
		certPEM, err := pemOrFile(p.Cert)
		if err != nil {
			return fmt.Errorf("certificates[%d].cert: %w", i, fileHint(err))
		}
		keyPEM, err := pemOrFile(p.Key)
		if err != nil {
			return fmt.Errorf("certificates[%d].key: %w", i, fileHint(err))
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return keyPairError(fmt.Sprintf("certificates[%d].cert", i), fmt.Sprintf("certificates[%d].key", i), fmt.Sprintf("certificates[%d]", i), err)
		}
		s.TLSCertificates = append(s.TLSCertificates, pair)
	}
	return nil
}

// pemOrFile reads v as a file path, or as base64 PEM when it decodes to
// one (Pomerium accepts both in certificates entries).
func pemOrFile(v string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(v); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			return b, nil
		}
	}
	return readSmall(v)
}

// applyGlobal gives a route the top-level defaults it did not override.
func (r *Route) applyGlobal(g *Settings, passSet bool) {
	if g == nil {
		return
	}
	if !passSet && g.PassIdentityHeaders != nil {
		r.PassIdentityHeaders = *g.PassIdentityHeaders
	}
	if !r.timeoutSet && !r.idleTimeoutSet && g.DefaultUpstreamTimeout > 0 {
		r.Timeout, r.timeoutSet = g.DefaultUpstreamTimeout, true
	}
	if len(g.SetResponseHeaders) > 0 {
		merged := map[string]string{}
		for k, v := range g.SetResponseHeaders {
			merged[k] = v
		}
		for k, v := range r.SetResponseHeaders {
			merged[k] = v
		}
		r.SetResponseHeaders = merged
	}
	r.JWTClaimsHeaders = g.JWTClaimsHeaders
	r.SkipXFFAppend = g.SkipXFFAppend
	r.XFFNumTrustedHops = int(g.XFFNumTrustedHops)
	r.UpstreamRoots = g.UpstreamRoots
	r.globalMTLS = &g.DownstreamMTLS
}
