package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/upstreams"
)

func TestReverseProxyStripsCredentialsAndAsserts(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	c := apiClient(t, d)
	verify := "https://verify.localhost:" + d.URL.Port()

	resp, body := get(t, c, verify+"/hello?x=1&pomerium_session="+url.QueryEscape(tok), map[string]string{
		"Authorization":            "Pomerium " + tok,
		"Cookie":                   "_pomerium=" + tok + "; other=1",
		"X-Pomerium-Claim-Email":   "forged@evil.example",
		"X-Pomerium-Jwt-Assertion": "forged",
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: got %d %q; want 200", resp.StatusCode, body)
	}
	var v upstreams.VerifyResponse
	decodeInto(t, body, &v)
	if strings.Contains(body, tok) {
		t.Errorf("the user's token reached the upstream: %s", body)
	}
	h := http.Header(v.Headers)
	if got := h.Get("Authorization"); got != "" {
		t.Errorf("Authorization upstream: got %q; want none", got)
	}
	if got := h.Get("Cookie"); got != "other=1" {
		t.Errorf("Cookie upstream: got %q; want other=1", got)
	}
	if v.Query != "x=1" {
		t.Errorf("query upstream: got %q; want x=1", v.Query)
	}
	if v.Path != "/hello" {
		t.Errorf("path upstream: got %q; want /hello", v.Path)
	}
	if got := h.Get("X-Pomerium-Claim-Email"); got != "dev@example.com" {
		t.Errorf("X-Pomerium-Claim-Email: got %q; want dev@example.com (inbound forged one dropped)", got)
	}

	// The assertion verifies with the published JWKS.
	_, jwksBody := get(t, c, d.URL.String()+"/.well-known/pomerium/jwks.json", nil)
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwksBody), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: got %q (%v); want one key", jwksBody, err)
	}
	assertion := h.Get("X-Pomerium-Jwt-Assertion")
	parsed, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("parsing assertion %q: %v", assertion, err)
	}
	var claims struct {
		jwt.Claims
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := parsed.Claims(jwks.Keys[0].Key, &claims); err != nil {
		t.Fatalf("assertion does not verify with the JWKS: %v", err)
	}
	if err := claims.Validate(jwt.Expected{AnyAudience: jwt.Audience{"verify.localhost"}}); err != nil {
		t.Errorf("assertion claims: %v", err)
	}
	if claims.Email != "dev@example.com" || claims.Subject == "" {
		t.Errorf("assertion: got email %q sub %q; want dev@example.com and a subject", claims.Email, claims.Subject)
	}
	if claims.Expiry == nil || claims.Expiry.Time().Sub(claims.IssuedAt.Time()) > 10*60e9 {
		t.Errorf("assertion expiry: got %v; want a short one", claims.Expiry)
	}
}

func TestReverseProxyPolicy(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	c := apiClient(t, d)
	port := d.URL.Port()
	for _, tc := range []struct {
		name, url string
		hdr       map[string]string
		want      int
	}{
		{"public without sign-in", "https://public.localhost:" + port + "/", nil, 200},
		{"verify browser without sign-in", "https://verify.localhost:" + port + "/", nil, 302},
		{"verify with bad token", "https://verify.localhost:" + port + "/", map[string]string{"Authorization": "Pomerium bad"}, 401},
		{"verify signed in", "https://verify.localhost:" + port + "/", map[string]string{"Authorization": "Pomerium " + tok}, 200},
		{"websocket not allowed", "https://verify.localhost:" + port + "/ws", map[string]string{
			"Authorization": "Pomerium " + tok, "Connection": "Upgrade", "Upgrade": "websocket"}, 403},
		{"unknown host", "https://nothing.localhost:" + port + "/", nil, 404},
		{"healthz", d.URL.String() + "/healthz", nil, 200},
		// /healthz checks an explicit credential: pomerium-cli's auth and
		// k8s exec-credential validate their cached token this way.
		{"healthz with a good token", d.URL.String() + "/healthz", map[string]string{"Authorization": "Bearer Pomerium-" + tok}, 200},
		{"healthz with a bad bearer token", d.URL.String() + "/healthz", map[string]string{"Authorization": "Bearer Pomerium-garbage"}, 401},
		{"healthz with a bad Pomerium token", d.URL.String() + "/healthz", map[string]string{"Authorization": "Pomerium garbage"}, 401},
		{"healthz with a bad X-Pomerium-Authorization", d.URL.String() + "/healthz", map[string]string{"X-Pomerium-Authorization": "garbage"}, 401},
		{"healthz with a bad query token", d.URL.String() + "/healthz?pomerium_session=garbage", nil, 401},
		{"healthz with a stale cookie", d.URL.String() + "/healthz", map[string]string{"Cookie": "_pomerium=garbage"}, 200},
		{"healthz with another Authorization scheme", d.URL.String() + "/healthz", map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, tc.url, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %q; want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
	// A browser signs in on the route's own host and comes back.
	resp, body := get(t, browser(t, d), "https://verify.localhost:"+port+"/page", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"path":"/page"`) {
		t.Fatalf("browser on verify: got %d %q; want 200 from the upstream for /page", resp.StatusCode, body)
	}
}

// TestReverseProxyStripsEveryCredentialForm: whichever of PROTOCOL.md's
// forms carried the token, it does not reach the upstream; an upstream's
// own Authorization scheme passes through.
func TestReverseProxyStripsEveryCredentialForm(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	c := apiClient(t, d)
	verify := "https://verify.localhost:" + d.URL.Port() + "/"
	for _, tc := range []struct {
		name string
		url  string
		hdr  map[string]string
	}{
		{"cookie", verify, map[string]string{"Cookie": "_pomerium=" + tok}},
		{"x-pomerium-authorization", verify, map[string]string{"X-Pomerium-Authorization": tok}},
		{"authorization pomerium", verify, map[string]string{"Authorization": "Pomerium " + tok}},
		{"authorization bearer pomerium-", verify, map[string]string{"Authorization": "Bearer Pomerium-" + tok}},
		{"query", verify + "?pomerium_session=" + url.QueryEscape(tok), nil},
		{"cookie with the upstream's own basic auth", verify, map[string]string{"Cookie": "_pomerium=" + tok, "Authorization": "Basic dXNlcjpwdw=="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, tc.url, tc.hdr)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %q; want 200", resp.StatusCode, body)
			}
			if strings.Contains(body, tok) {
				t.Errorf("the token reached the upstream: %s", body)
			}
			var v upstreams.VerifyResponse
			decodeInto(t, body, &v)
			h := http.Header(v.Headers)
			for _, k := range []string{"X-Pomerium-Authorization", "Cookie"} {
				if got := h.Get(k); got != "" {
					t.Errorf("%s upstream: got %q; want none", k, got)
				}
			}
			wantAuth := tc.hdr["Authorization"]
			if strings.HasPrefix(wantAuth, "Pomerium ") || strings.HasPrefix(wantAuth, "Bearer Pomerium-") {
				wantAuth = ""
			}
			if got := h.Get("Authorization"); got != wantAuth {
				t.Errorf("Authorization upstream: got %q; want %q", got, wantAuth)
			}
			if h.Get("X-Pomerium-Claim-Email") != "dev@example.com" {
				t.Errorf("X-Pomerium-Claim-Email: got %q; want dev@example.com (signed in by this form)", h.Get("X-Pomerium-Claim-Email"))
			}
		})
	}

	// A second Authorization header carrying the token: the first, the
	// upstream's own, passes; the Pomerium one does not.
	t.Run("second authorization header", func(t *testing.T) {
		hdr := http.Header{"Cookie": {"_pomerium=" + tok}, "Authorization": {"Basic dXNlcjpwdw==", "Pomerium " + tok}}
		resp, body := getHeader(t, c, verify, hdr)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d %q; want 200", resp.StatusCode, body)
		}
		if strings.Contains(body, tok) {
			t.Errorf("the token reached the upstream: %s", body)
		}
		var v upstreams.VerifyResponse
		decodeInto(t, body, &v)
		if got := http.Header(v.Headers).Values("Authorization"); len(got) != 1 || got[0] != "Basic dXNlcjpwdw==" {
			t.Errorf("Authorization upstream: got %q; want just the Basic one", got)
		}
	})
}
