package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/upstreams"
)

// TestReverseProxyStripsCredentialSpellings sends the token and forged
// identity headers in spellings other parsers accept, through the real
// proxy over HTTP/1.1 and HTTP/2, and checks what the upstream received.
func TestReverseProxyStripsCredentialSpellings(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	verify := "https://verify.localhost:" + d.URL.Port() + "/"
	cases := []struct {
		name string
		hdr  http.Header
	}{
		{"cookie space before =", http.Header{"Cookie": {"_pomerium =" + tok + "; other=1"}}},
		{"cookie tab before =", http.Header{"Cookie": {"_pomerium\t=" + tok + "; other=1"}}},
		{"cookie spaces around", http.Header{"Cookie": {"other=1;  _pomerium \t=" + tok}}},
		{"cookie upper case", http.Header{"Cookie": {"_POMERIUM=" + tok + "; other=1"}}},
		{"cookie PHP dot", http.Header{"Cookie": {".pomerium=" + tok + "; other=1"}}},
		{"cookie second line", http.Header{"Cookie": {"other=1", "_pomerium =" + tok}}},
		{"underscored claim header", http.Header{"Cookie": {"_pomerium=" + tok}, "X_Pomerium_Claim_Email": {"forged@evil.example"}}},
		{"lower underscored header", http.Header{"Cookie": {"_pomerium=" + tok}, "x_pomerium_claim_groups": {"forged-group"}}},
		{"mixed separators", http.Header{"Cookie": {"_pomerium=" + tok}, "X-Pomerium_Jwt_Assertion": {"forged"}}},
		{"underscored authorization", http.Header{"X-Pomerium-Authorization": {tok}, "X_Pomerium_Authorization": {tok}}},
		{"underscored forwarded-for", http.Header{"X_Forwarded_For": {"forged"}, "x_forwarded_host": {"forged"}}},
	}
	for _, proto := range []string{"h1", "h2"} {
		c := apiClient(t, d)
		if proto == "h1" {
			c.Transport.(*http.Transport).ForceAttemptHTTP2 = false
			c.Transport.(*http.Transport).TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		for _, tc := range cases {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				// A credential the server surely reads, so that a spelling it
				// does not take for the session cookie is still judged.
				hdr := tc.hdr.Clone()
				hdr.Set("X-Pomerium-Authorization", tok)
				resp, body := getHeader(t, c, verify, hdr)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("got %d %q; want 200 (the request is signed in)", resp.StatusCode, body)
				}
				if wantProto := map[string]int{"h1": 1, "h2": 2}[proto]; resp.ProtoMajor != wantProto {
					t.Fatalf("answered over %s; want %s", resp.Proto, proto)
				}
				if strings.Contains(body, tok) {
					t.Errorf("the user's token reached the upstream: %s", body)
				}
				var v upstreams.VerifyResponse
				decodeInto(t, body, &v)
				for k, vals := range v.Headers {
					n := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
					if !strings.HasPrefix(n, "x-pomerium-") && !strings.HasPrefix(n, "x-forwarded-") {
						continue
					}
					if strings.Contains(k, "_") || strings.Contains(strings.Join(vals, ","), "forged") || strings.Contains(strings.Join(vals, ","), "forged-group") {
						t.Errorf("inbound identity header reached the upstream: %s: %q", k, vals)
					}
				}
				if ck := http.Header(v.Headers).Get("Cookie"); strings.Contains(tc.hdr.Get("Cookie")+strings.Join(tc.hdr.Values("Cookie"), ""), "other=1") && ck != "other=1" {
					t.Errorf("Cookie upstream: got %q; want other=1", ck)
				}
			})
		}
	}
}
