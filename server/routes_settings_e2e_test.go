package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestRouteSettingsHTTP checks each Routes-reference setting through the
// real server to a loopback upstream: what the upstream received and
// what the client got.
func TestRouteSettingsHTTP(t *testing.T) {
	a, _ := upstream(t, echoHandler("a"), nil)
	b, _ := upstream(t, echoHandler("b"), nil)
	yml := `routes:
  - from: https://join.localhost
    to: http://` + a + `/anything
    allow_public_unauthenticated_access: true
  - from: https://slash.localhost
    to: http://` + a + `/anything/
    allow_public_unauthenticated_access: true
  - from: https://pre.localhost
    prefix: /admin
    prefix_rewrite: /
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://pre.localhost
    path: /exact
    to: http://` + b + `
    allow_public_unauthenticated_access: true
  - from: https://rx.localhost
    prefix: /api
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://rx.localhost
    regex: '^/api/v[0-9]+/.*$'
    regex_priority_order: 10
    to: http://` + b + `
    allow_public_unauthenticated_access: true
  - from: https://rr.localhost
    regex_rewrite_pattern: '^/service/([^/]+)(/.*)$'
    regex_rewrite_substitution: '\2/instance/\1'
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://keep.localhost
    preserve_host_header: true
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://hr.localhost
    host_rewrite: internal.example
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://hh.localhost
    host_rewrite_header: X-Want-Host
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://hp.localhost
    host_path_regex_rewrite_pattern: '^/([^/]+)/.+$'
    host_path_regex_rewrite_substitution: '\1'
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://hdr.localhost
    set_request_headers:
      X-Your-Favorite-Proxy: Pomerium
      X-Assertion: '${pomerium.jwt}'
    remove_request_headers: [X-Email, X-Username]
    set_response_headers:
      X-Frame-Options: DENY
    rewrite_response_headers:
      - header: Location
        prefix: http://localhost:8000/two/
        value: http://frontend/one/
    to: http://` + a + `
    allow_any_authenticated_user: true
  - from: https://id.localhost
    pass_identity_headers: true
    to: http://` + a + `
    allow_any_authenticated_user: true
  - from: https://k8s.localhost
    kubernetes_service_account_token: sa-token-123
    to: http://` + a + `
    allow_any_authenticated_user: true
  - from: https://cors.localhost
    cors_allow_preflight: true
    to: http://` + a + `
    allow_any_authenticated_user: true
  - from: https://nocors.localhost
    to: http://` + a + `
    allow_any_authenticated_user: true
  - from: https://gcp.localhost
    enable_google_cloud_serverless_authentication: true
    to: http://` + a + `
    allow_public_unauthenticated_access: true
  - from: https://weighted.localhost
    to: [http://` + a + `/w/, http://` + b + `/w/]
    allow_public_unauthenticated_access: true
jwt_claims_headers: {X-Pomerium-Claim-Department: department, X-Dept: department, X-Missing: no_such_claim}
`
	e := startRoutes(t, yml)
	tok := "Pomerium " + e.token("dev@example.com", "admins")
	for _, tc := range []struct {
		name, method, host, path string
		h                        http.Header
		want                     int
		check                    func(t *testing.T, resp *http.Response, s seen, body string)
	}{
		{"to path joins without a slash", "GET", "join.localhost", "/foo", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Path != "/anythingfoo" {
				t.Errorf("upstream path: got %q; want /anythingfoo (the reference's trailing-slash rule)", s.Path)
			}
		}},
		{"to path alone", "GET", "join.localhost", "/", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Path != "/anything" {
				t.Errorf("upstream path: got %q; want /anything", s.Path)
			}
		}},
		{"double slash reaches the sub-path", "GET", "join.localhost", "//foo", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Path != "/anything/foo" {
				t.Errorf("upstream path: got %q; want /anything/foo", s.Path)
			}
		}},
		{"to path with trailing slash", "GET", "slash.localhost", "/foo?x=1", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Path != "/anything/foo" || s.Query != "x=1" {
				t.Errorf("upstream: got %q?%s; want /anything/foo?x=1", s.Path, s.Query)
			}
		}},
		{"prefix_rewrite", "GET", "pre.localhost", "/admin", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Path != "/" {
				t.Errorf("upstream path: got %q; want /", s.Path)
			}
		}},
		{"prefix does not match", "GET", "pre.localhost", "/other", nil, 404, nil},
		{"path exact", "GET", "pre.localhost", "/exact", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Name != "b" || s.Path != "/exact" {
				t.Errorf("got upstream %s path %q; want b /exact", s.Name, s.Path)
			}
		}},
		{"path is exact only", "GET", "pre.localhost", "/exact/more", nil, 404, nil},
		{"regex_priority_order beats an earlier prefix", "GET", "rx.localhost", "/api/v2/items", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Name != "b" {
				t.Errorf("upstream: got %s; want b (regex route, priority 10)", s.Name)
			}
		}},
		{"prefix when the regex does not match", "GET", "rx.localhost", "/api/list", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Name != "a" {
				t.Errorf("upstream: got %s; want a", s.Name)
			}
		}},
		{"regex_rewrite", "GET", "rr.localhost", "/service/foo/bar", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Path != "/bar/instance/foo" {
				t.Errorf("upstream path: got %q; want /bar/instance/foo", s.Path)
			}
		}},
		{"default host is the upstream's", "GET", "join.localhost", "/", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Host != a {
				t.Errorf("upstream Host: got %q; want %q", s.Host, a)
			}
		}},
		{"preserve_host_header", "GET", "keep.localhost", "/", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Host != "keep.localhost:"+e.port {
				t.Errorf("upstream Host: got %q; want keep.localhost:%s", s.Host, e.port)
			}
		}},
		{"host_rewrite", "GET", "hr.localhost", "/", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Host != "internal.example" {
				t.Errorf("upstream Host: got %q; want internal.example", s.Host)
			}
		}},
		{"host_rewrite_header", "GET", "hh.localhost", "/", hdr("X-Want-Host", "from-header.example"), 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Host != "from-header.example" {
				t.Errorf("upstream Host: got %q; want from-header.example", s.Host)
			}
		}},
		{"host_path_regex_rewrite", "GET", "hp.localhost", "/example.com/some/path", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Host != "example.com" {
				t.Errorf("upstream Host: got %q; want example.com", s.Host)
			}
		}},
		{"request and response headers", "GET", "hdr.localhost", "/location", hdr("Authorization", tok, "X-Email", "spoof@example.com", "X-Username", "spoof"), 200,
			func(t *testing.T, resp *http.Response, s seen, _ string) {
				if got := s.Header.Get("X-Your-Favorite-Proxy"); got != "Pomerium" {
					t.Errorf("set_request_headers: got %q; want Pomerium", got)
				}
				if got := s.Header.Get("X-Assertion"); strings.Count(got, ".") != 2 {
					t.Errorf("${pomerium.jwt}: got %q; want a JWT", got)
				}
				if s.Header.Get("X-Email") != "" || s.Header.Get("X-Username") != "" {
					t.Errorf("remove_request_headers: upstream still got X-Email %q / X-Username %q", s.Header.Get("X-Email"), s.Header.Get("X-Username"))
				}
				if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
					t.Errorf("set_response_headers: got %q; want DENY", got)
				}
				if got := resp.Header.Get("Location"); got != "http://frontend/one/some/path/" {
					t.Errorf("rewrite_response_headers: got %q; want http://frontend/one/some/path/", got)
				}
			}},
		{"pass_identity_headers and jwt_claims_headers", "GET", "id.localhost", "/", hdr("Authorization", tok, "X_Dept", "forged", "X-Missing", "forged"), 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Header.Get("X-Pomerium-Jwt-Assertion") == "" || s.Header.Get("X-Pomerium-Claim-Email") != "dev@example.com" {
				t.Errorf("identity headers: got assertion %q, email %q", s.Header.Get("X-Pomerium-Jwt-Assertion"), s.Header.Get("X-Pomerium-Claim-Email"))
			}
			if got := s.Header.Get("X-Pomerium-Claim-Department"); got != "eng" {
				t.Errorf("jwt_claims_headers department: got %q; want eng", got)
			}
			if got := s.Header.Values("X-Dept"); len(got) != 1 || got[0] != "eng" || s.Header.Get("X_Dept") != "" {
				t.Errorf("jwt_claims_headers map form X-Dept: got %q (X_Dept %q); want [eng] and no client copy", got, s.Header.Get("X_Dept"))
			}
			if got := s.Header.Get("X-Missing"); got != "" {
				t.Errorf("a client's copy of a claim header passed: X-Missing %q", got)
			}
		}},
		{"no identity headers without pass_identity_headers", "GET", "k8s.localhost", "/", hdr("Authorization", tok, "Impersonate-Group", "system:masters"), 200,
			func(t *testing.T, _ *http.Response, s seen, _ string) {
				if s.Header.Get("X-Pomerium-Jwt-Assertion") != "" {
					t.Error("the upstream got an assertion without pass_identity_headers")
				}
				if got := s.Header.Get("Authorization"); got != "Bearer sa-token-123" {
					t.Errorf("kubernetes_service_account_token: Authorization got %q; want Bearer sa-token-123", got)
				}
				if got := s.Header.Get("Impersonate-User"); got != "dev@example.com" {
					t.Errorf("Impersonate-User: got %q; want dev@example.com", got)
				}
				if got := s.Header.Values("Impersonate-Group"); len(got) != 1 || got[0] != "admins" {
					t.Errorf("Impersonate-Group: got %q; want only admins (the client's system:masters dropped)", got)
				}
			}},
		{"cors_allow_preflight lets a preflight through", "OPTIONS", "cors.localhost", "/x", hdr("Origin", "https://app.example", "Access-Control-Request-Method", "PUT"), 200,
			func(t *testing.T, _ *http.Response, s seen, _ string) {
				if s.Method != "OPTIONS" {
					t.Errorf("upstream method: got %q; want OPTIONS", s.Method)
				}
			}},
		{"cors_allow_preflight is only for preflights", "GET", "cors.localhost", "/x", hdr("Origin", "https://app.example"), 302, nil},
		{"without cors_allow_preflight a preflight must sign in", "OPTIONS", "nocors.localhost", "/x", hdr("Origin", "https://app.example", "Access-Control-Request-Method", "PUT"), 302, nil},
		{"enable_google_cloud_serverless_authentication is accepted", "GET", "gcp.localhost", "/", nil, 200, func(t *testing.T, _ *http.Response, s seen, _ string) {
			if s.Header.Get("Authorization") != "" {
				t.Errorf("Authorization: got %q; want none (no GCP metadata server offline)", s.Header.Get("Authorization"))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(e.client, tc.method, e.url(tc.host, tc.path), tc.h)
			if resp.StatusCode != tc.want {
				t.Fatalf("status: got %d (%q); want %d", resp.StatusCode, body, tc.want)
			}
			if tc.check != nil {
				tc.check(t, resp, decodeSeen(t, body), body)
			}
		})
	}

	t.Run("to list keeps each upstream's path", func(t *testing.T) {
		names := map[string]int{}
		for i := 0; i < 10; i++ {
			_, body := e.do(e.client, "GET", e.url("weighted.localhost", "/x"), nil)
			s := decodeSeen(t, body)
			if s.Path != "/w/x" {
				t.Errorf("upstream %s path: got %q; want /w/x", s.Name, s.Path)
			}
			names[s.Name]++
		}
		if names["a"] != 5 || names["b"] != 5 {
			t.Errorf("round robin over two upstreams: got %v; want 5 each", names)
		}
	})
}
