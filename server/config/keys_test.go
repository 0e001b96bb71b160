package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCertPEM is a self-signed certificate and its key.
func testCertPEM(t *testing.T) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, DNSNames: []string{"a.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

type keyCase struct {
	good    string // the key's line(s) with a valid value
	bad     string // with an invalid value ("" when every value is valid)
	wantErr string // what the refusal must mention
}

// TestEveryRouteKey: each route key is accepted with a valid value and
// refused clearly with an invalid one. The table must cover every key.
func TestEveryRouteKey(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := testCertPEM(t)
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, certPEM, 0o600)
	kf := filepath.Join(dir, "key.pem")
	os.WriteFile(kf, keyPEM, 0o600)
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("tok\n"), 0o600)
	b := func(p []byte) string { return base64.StdEncoding.EncodeToString(p) }
	cases := map[string]keyCase{
		"from":                                  {"from: https://x.example.com", "from: ftp://x", "scheme must be https"},
		"to":                                    {"to: http://localhost:8080", "to: ftp://a", "scheme must be http or https"},
		"name":                                  {"name: X", "name: [a]", "want a string"},
		"description":                           {"description: d", "description: {a: b}", "want a string"},
		"logo_url":                              {"logo_url: https://x/l.png", "logo_url: javascript:alert(1)", "logo_url"},
		"prefix":                                {"prefix: /app", "prefix: app", "must start with /"},
		"path":                                  {"path: /exact", "path: exact", "must start with /"},
		"policy":                                {"policy: {allow: {or: [{email: {is: a@b.c}}]}}", "policy: {allow: {or: [{emial: x}]}}", "emial"},
		"allow_public_unauthenticated_access":   {"allow_public_unauthenticated_access: true", "allow_public_unauthenticated_access: yes please", "true or false"},
		"allow_any_authenticated_user":          {"allow_any_authenticated_user: true", "allow_any_authenticated_user: 3", "true or false"},
		"allowed_users":                         {"allowed_users: [a@b.c]", "allowed_users: ['  ']", "empty"},
		"allowed_domains":                       {"allowed_domains: [example.com]", "allowed_domains: [a@b]", "bare domain"},
		"allowed_idp_claims":                    {"allowed_idp_claims: {groups: [admins]}", "allowed_idp_claims: [a]", "map of claim"},
		"pass_identity_headers":                 {"pass_identity_headers: true", "pass_identity_headers: x", "true or false"},
		"allow_websockets":                      {"allow_websockets: true", "allow_websockets: 1", "true or false"},
		"timeout":                               {"timeout: 30s", "timeout: soon", "duration"},
		"idle_timeout":                          {"idle_timeout: 5m", "idle_timeout: -1s", "negative"},
		"regex":                                 {"regex: '^/api/.*$'", "regex: '('", "regular expression"},
		"regex_priority_order":                  {"regex_priority_order: 5", "regex_priority_order: high", "whole number"},
		"redirect":                              {"redirect: {https_redirect: true}", "redirect: {response_code: 200}", "response_code"},
		"prefix_rewrite":                        {"prefix_rewrite: /", "prefix_rewrite: x", "must start with /"},
		"regex_rewrite_pattern":                 {"regex_rewrite_pattern: '^/a/(.*)$'", "regex_rewrite_pattern: '['", "regular expression"},
		"regex_rewrite_substitution":            {"regex_rewrite_pattern: '^/a/(.*)$'\n    regex_rewrite_substitution: '/\\1'", "regex_rewrite_substitution: /x", "needs regex_rewrite_pattern"},
		"preserve_host_header":                  {"preserve_host_header: true", "preserve_host_header: true\n    host_rewrite: a", "mutually exclusive"},
		"host_rewrite":                          {"host_rewrite: internal:8080", "host_rewrite: a/b", "host_rewrite"},
		"host_rewrite_header":                   {"host_rewrite_header: X-Host", "host_rewrite_header: X-Host\n    host_rewrite: a", "mutually exclusive"},
		"host_path_regex_rewrite_pattern":       {"host_path_regex_rewrite_pattern: '^/(.+)/.+$'\n    host_path_regex_rewrite_substitution: '\\1'", "host_path_regex_rewrite_pattern: '^/(.+)/.+$'", "set both"},
		"host_path_regex_rewrite_substitution":  {"host_path_regex_rewrite_pattern: '^/(.+)$'\n    host_path_regex_rewrite_substitution: '\\1'", "host_path_regex_rewrite_substitution: x", "set both"},
		"set_request_headers":                   {"set_request_headers: {X-A: b}", "set_request_headers: {Host: evil}", "Host cannot be set"},
		"remove_request_headers":                {"remove_request_headers: [X-Email]", "remove_request_headers: ['bad header']", "not a valid header name"},
		"set_response_headers":                  {"set_response_headers: {X-Frame-Options: DENY}", "set_response_headers: {X-A: \"a\\nSet-Cookie: x=1\"}", "control character"},
		"rewrite_response_headers":              {"rewrite_response_headers: [{header: Location, prefix: 'http://a/', value: 'http://b/'}]", "rewrite_response_headers: [{prefix: x}]", "header: required"},
		"allow_spdy":                            {"allow_spdy: true", "allow_spdy: maybe", "true or false"},
		"cors_allow_preflight":                  {"cors_allow_preflight: true", "cors_allow_preflight: 2", "true or false"},
		"kubernetes_service_account_token":      {"kubernetes_service_account_token: abc", "kubernetes_service_account_token: abc\n    kubernetes_service_account_token_file: " + tok, "at most one"},
		"kubernetes_service_account_token_file": {"kubernetes_service_account_token_file: " + tok, "kubernetes_service_account_token_file: " + filepath.Join(dir, "nope"), "no such file"},
		"show_error_details":                    {"show_error_details: false", "show_error_details: off-ish", "true or false"},
		"enable_google_cloud_serverless_authentication": {"enable_google_cloud_serverless_authentication: true", "enable_google_cloud_serverless_authentication: x", "true or false"},
		"tls_skip_verify":                  {"tls_skip_verify: true", "tls_skip_verify: x", "true or false"},
		"tls_server_name":                  {"tls_server_name: up.internal", "tls_server_name: a\n    tls_upstream_server_name: b", "at most one"},
		"tls_upstream_server_name":         {"tls_upstream_server_name: up.internal", "tls_upstream_server_name: [a]", "want a string"},
		"tls_custom_ca":                    {"tls_custom_ca: " + b(certPEM), "tls_custom_ca: not-base64!", "base64"},
		"tls_custom_ca_file":               {"tls_custom_ca_file: " + ca, "tls_custom_ca_file: " + kf, "no CERTIFICATE"},
		"tls_client_cert":                  {"tls_client_cert: " + b(certPEM) + "\n    tls_client_key: " + b(keyPEM), "tls_client_cert: " + b(certPEM), "set both"},
		"tls_client_key":                   {"tls_client_cert: " + b(certPEM) + "\n    tls_client_key: " + b(keyPEM), "tls_client_cert: " + b(certPEM) + "\n    tls_client_key: " + b(certPEM), "tls_client_key: a certificate, not a private key"},
		"tls_client_cert_file":             {"tls_client_cert_file: " + ca + "\n    tls_client_key_file: " + kf, "tls_client_cert_file: " + ca, "set both"},
		"tls_client_key_file":              {"tls_client_cert_file: " + ca + "\n    tls_client_key_file: " + kf, "tls_client_key_file: " + filepath.Join(dir, "nope"), "no such file"},
		"tls_upstream_allow_renegotiation": {"tls_upstream_allow_renegotiation: true", "tls_upstream_allow_renegotiation: x", "true or false"},
		"tls_downstream_client_ca":         {"tls_downstream_client_ca: " + b(certPEM), "tls_downstream_client_ca: " + b([]byte("hello")), "does not hold PEM"},
		"tls_downstream_client_ca_file":    {"tls_downstream_client_ca_file: " + ca, "tls_downstream_client_ca_file: " + filepath.Join(dir, "nope"), "no such file"},
		"lb_policy":                        {"lb_policy: least_request", "lb_policy: FASTEST", "ROUND_ROBIN"},
		"health_checks":                    {"health_checks: [{timeout: 1s, interval: 5s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: {path: /healthz, expected_statuses: [{start: 200, end: 300}]}}]", "health_checks: [{interval: 5s}]", "http_health_check or tcp_health_check"},
		"ring_hash_lb_config":              {"ring_hash_lb_config: {minimum_ring_size: 1024}", "ring_hash_lb_config: {size: 3}", "unknown key"},
		"maglev_lb_config":                 {"maglev_lb_config: {table_size: 65537}", "maglev_lb_config: {table_size: big}", "whole number"},
		"id":                               {"id: route-1", "id: [x]", "want a string"},
	}
	for _, k := range allRouteKeys() {
		if _, ok := cases[k]; !ok {
			t.Errorf("route key %s has no test case", k)
		}
	}
	// https upstreams where tls_* settings need one.
	for key, tc := range cases {
		t.Run(key, func(t *testing.T) {
			base := map[string]string{"from": "from: https://r.example.com", "to": "to: https://localhost:8443"}
			if strings.HasPrefix(key, "from") || strings.HasPrefix(key, "to") || key == "redirect" {
				delete(base, strings.SplitN(key, "_", 2)[0])
			}
			if key == "redirect" {
				delete(base, "to")
			}
			mk := func(line string) string {
				s := "routes:\n  - " + strings.TrimSpace(line) + "\n"
				for _, l := range base {
					s += "    " + l + "\n"
				}
				return s
			}
			if _, err := Parse([]byte(mk(tc.good))); err != nil {
				t.Errorf("valid %q: %v", tc.good, err)
			}
			_, err := Parse([]byte(mk(tc.bad)))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("invalid %q: got %v; want one line mentioning %q", tc.bad, err, tc.wantErr)
			}
		})
	}
}

// TestEveryTopKey: the same for the top-level keys beyond the core ones,
// and the refusals of Pomerium keys we cannot honour.
func TestEveryTopKey(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := testCertPEM(t)
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cf, certPEM, 0o600)
	os.WriteFile(kf, keyPEM, 0o600)
	sf := filepath.Join(dir, "secret")
	os.WriteFile(sf, []byte(secret32+"\n"), 0o600)
	b := func(p []byte) string { return base64.StdEncoding.EncodeToString(p) }
	cases := map[string]keyCase{
		"certificate":                {"certificate: " + b(certPEM) + "\ncertificate_key: " + b(keyPEM), "certificate: " + b(certPEM), "set both"},
		"certificate_key":            {"certificate: " + b(certPEM) + "\ncertificate_key: " + b(keyPEM), "certificate_key: " + b(keyPEM), "set both"},
		"certificates":               {"certificates: [{cert: " + cf + ", key: " + kf + "}]", "certificates: [{cert: " + cf + "}]", "both required"},
		"certificate_authority":      {"certificate_authority: " + b(certPEM), "certificate_authority: '%%'", "base64"},
		"certificate_authority_file": {"certificate_authority_file: " + cf, "certificate_authority_file: " + filepath.Join(dir, "none"), "no such file"},
		"idp_provider":               {"idp_provider: oidc", "idp_provider: github", "not supported by pomerium-server: idp_provider github"},
		"idp_request_params":         {"idp_request_params: {prompt: select_account}", "idp_request_params: {state: x}", "set by the sign-in flow"},
		"idp_client_secret_file":     {"idp_client_secret_file: " + sf, "idp_client_secret_file: " + filepath.Join(dir, "none"), "no such file"},
		"shared_secret_file":         {"shared_secret_file: " + sf, "shared_secret_file: " + cf, "shared_secret"},
		"cookie_secret_file":         {"cookie_secret_file: " + sf, "cookie_secret_file: " + sf + "\ncookie_secret: " + secret32, "not both"},
		"log_level":                  {"log_level: debug", "log_level: loud", "debug, info, warn or error"},
		"proxy_log_level":            {"proxy_log_level: warn", "proxy_log_level: trace", "debug, info, warn or error"},
		"metrics_address":            {"metrics_address: 127.0.0.1:9090", "metrics_address: nine", "metrics_address"},
		"metrics_basic_auth":         {"metrics_address: :9090\nmetrics_basic_auth: " + b([]byte("u:p")), "metrics_address: :9090\nmetrics_basic_auth: " + b([]byte("nocolon")), "user:password"},
		"default_upstream_timeout":   {"default_upstream_timeout: 1m", "default_upstream_timeout: later", "duration"},
		"http_redirect_addr":         {"http_redirect_addr: :80", "http_redirect_addr: eighty", "http_redirect_addr"},
		"codec_type":                 {"codec_type: http1", "codec_type: http3", "auto, http1 or http2"},
		"jwt_claims_headers":         {"jwt_claims_headers: {X-Email: email}", "jwt_claims_headers: {'X Email': email}", "not a valid header name"},
		"pass_identity_headers":      {"pass_identity_headers: true", "pass_identity_headers: x", "true or false"},
		"set_response_headers":       {"set_response_headers: {Strict-Transport-Security: max-age=1}", "set_response_headers: {'a b': c}", "not a valid header name"},
		"skip_xff_append":            {"skip_xff_append: true", "skip_xff_append: x", "true or false"},
		"xff_num_trusted_hops":       {"xff_num_trusted_hops: 1", "xff_num_trusted_hops: 99", "0-32"},
		"google_cloud_serverless_authentication_service_account": {"google_cloud_serverless_authentication_service_account: e30=", "google_cloud_serverless_authentication_service_account: [x]", "want a string"},
		"cookie_name":      {"cookie_name: _pomerium", "cookie_name: _mycookie", "not supported by pomerium-server: cookie_name _mycookie (the session cookie is always _pomerium)"},
		"cookie_secure":    {"cookie_secure: true", "cookie_secure: false", "not supported by pomerium-server: cookie_secure false"},
		"cookie_http_only": {"cookie_http_only: true", "cookie_http_only: false", "not supported by pomerium-server: cookie_http_only false"},
		"cookie_same_site": {"cookie_same_site: Lax", "cookie_same_site: none", "not supported by pomerium-server: cookie_same_site none"},
		"services":         {"services: all", "services: proxy", "only all"},
		"downstream_mtls":  {"downstream_mtls: {ca: " + b(certPEM) + ", enforcement: policy, max_verify_depth: 2}", "downstream_mtls: {ca: " + b(certPEM) + ", enforcement: sometimes}", "enforcement: want policy_with_default_deny"},
		"client_ca":        {"client_ca: " + b(certPEM), "client_ca: " + b([]byte("not pem")), "does not hold PEM"},
		"client_ca_file":   {"client_ca_file: " + cf, "client_ca_file: " + filepath.Join(dir, "none"), "no such file"},
		"policy":           {"policy: [{from: 'https://a.example.com', to: 'http://b', allow_public_unauthenticated_access: true}]", "policy: []\nroutes: []", "not both"},
	}
	for _, k := range settingsTopKeys {
		if _, ok := cases[k]; !ok {
			t.Errorf("top-level key %s has no test case", k)
		}
	}
	for key, tc := range cases {
		t.Run(key, func(t *testing.T) {
			if _, err := Parse([]byte(tc.good + "\n")); err != nil {
				t.Errorf("valid %q: %v", tc.good, err)
			}
			_, err := Parse([]byte(tc.bad + "\n"))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("invalid %q: got %v; want one line mentioning %q", tc.bad, err, tc.wantErr)
			}
		})
	}
	t.Run("certificates load", func(t *testing.T) {
		cfg, err := Parse([]byte("certificates: [{cert: " + cf + ", key: " + kf + "}]\ncertificate: " + b(certPEM) + "\ncertificate_key: " + b(keyPEM) + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.LoadCertificates(); err != nil || len(cfg.TLSCertificates) != 2 {
			t.Errorf("got %d certificates, %v; want 2", len(cfg.TLSCertificates), err)
		}
	})
	t.Run("unsupported keys say why", func(t *testing.T) {
		for _, k := range slices.Sorted(mapsKeys(unsupportedTopKeys)) {
			_, err := Parse([]byte(k + ": x\n"))
			if err == nil || !strings.HasPrefix(err.Error(), "not supported by pomerium-server: "+k+" (") {
				t.Errorf("%s: got %v; want not supported by pomerium-server: %s (why)", k, err, k)
			}
		}
		for _, k := range slices.Sorted(mapsKeys(unsupportedRouteKeys)) {
			_, err := Parse([]byte("routes:\n  - from: https://a.example.com\n    to: http://b\n    " + k + ": x\n"))
			if err == nil || !strings.Contains(err.Error(), "not supported by pomerium-server: "+k+" (") {
				t.Errorf("%s: got %v; want not supported by pomerium-server: %s (why)", k, err, k)
			}
		}
	})
	t.Run("unknown keys are still unknown", func(t *testing.T) {
		if _, err := Parse([]byte("adress: x\n")); err == nil || !strings.Contains(err.Error(), `unknown key "adress"`) {
			t.Errorf("got %v; want unknown key", err)
		}
	})
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestHealthCheckKindPerRouteType(t *testing.T) {
	_, err := Parse([]byte("routes:\n  - from: tcp+https://db.example.com:5432\n    to: tcp://10.0.0.5:5432\n    health_checks: [{http_health_check: {path: /}}]\n"))
	if err == nil || !strings.Contains(err.Error(), "tcp_health_check, not http_health_check") {
		t.Errorf("http check on a tcp route: got %v", err)
	}
	if _, err := Parse([]byte("routes:\n  - from: tcp+https://db.example.com:5432\n    to: tcp://10.0.0.5:5432\n    health_checks: [{tcp_health_check: {}}]\n")); err != nil {
		t.Errorf("tcp check on a tcp route: %v", err)
	}
}

// TestJWTClaimsHeadersForms: Pomerium's list form names claims sent as
// X-Pomerium-Claim-<name>; its map form names the header for each claim.
func TestJWTClaimsHeadersForms(t *testing.T) {
	for _, tc := range []struct {
		yml  string
		want []ClaimHeader
	}{
		{"jwt_claims_headers: [department, employee_id]", []ClaimHeader{{"X-Pomerium-Claim-department", "department"}, {"X-Pomerium-Claim-employee_id", "employee_id"}}},
		{"jwt_claims_headers: department,email", []ClaimHeader{{"X-Pomerium-Claim-department", "department"}, {"X-Pomerium-Claim-email", "email"}}},
		{"jwt_claims_headers: {X-Email: email}", []ClaimHeader{{"X-Email", "email"}}},
	} {
		cfg, err := Parse([]byte(tc.yml + "\n"))
		if err != nil {
			t.Errorf("%q: %v", tc.yml, err)
			continue
		}
		if !slices.Equal(cfg.JWTClaimsHeaders, tc.want) {
			t.Errorf("%q: got %v; want %v", tc.yml, cfg.JWTClaimsHeaders, tc.want)
		}
	}
}
