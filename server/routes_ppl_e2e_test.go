package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPPLRequestCriteria: request criteria decide through the real
// server, and a denial shows the policy's explanation and remediation.
func TestPPLRequestCriteria(t *testing.T) {
	a, _ := upstream(t, echoHandler("a"), nil)
	users := newPKI(t, "users CA")
	alice := users.issue("alice", nil, true)
	bob := users.issue("bob", nil, true)
	fp := sha256.Sum256(alice.Certificate[0])
	dir := t.TempDir()
	// Today and tomorrow, and no upper bound on the time of day, so a run
	// that crosses midnight UTC still passes; the unit tests of
	// server/policy check the bounds themselves.
	now := time.Now().UTC()
	today := strings.ToLower(now.Weekday().String()[:3]) + "," + strings.ToLower(now.Add(24 * time.Hour).Weekday().String()[:3])
	route := func(host, pol string, extra ...string) string {
		s := "  - from: https://" + host + "\n    to: http://" + a + "\n    policy: " + pol + "\n"
		for _, x := range extra {
			s += "    " + x + "\n"
		}
		return s
	}
	e := startRoutes(t, "routes:\n"+
		route("method.localhost", `{allow: {and: [{http_method: {in: [GET, HEAD]}}]}, explanation: "This service is read-only.", remediation: "Use the admin route to change things."}`)+
		route("path.localhost", `{allow: {and: [{http_path: {starts_with: /public/}}]}}`)+
		route("ip.localhost", `{allow: {and: [{source_ip: 127.0.0.0/8}]}}`)+
		route("otherip.localhost", `{allow: {and: [{source_ip: 10.0.0.0/8}]}}`)+
		route("when.localhost", `{allow: {and: [{day_of_week: "`+today+`"}, {time_of_day: {after: "00:00", timezone: UTC}}, {date: {after: "2000-01-01T00:00:00Z"}}]}}`)+
		route("never.localhost", `{allow: {and: [{date: {before: "2000-01-01T00:00:00Z"}}]}}`)+
		route("cert.localhost", `{allow: {and: [{client_certificate: {fingerprint: `+hex.EncodeToString(fp[:])+`}}]}}`,
			"tls_downstream_client_ca_file: "+writeFile(t, dir, "users.pem", users.PEM))+
		route("preflight.localhost", `{allow: {or: [{cors_preflight: true}, {authenticated_user: true}]}}`))
	for _, tc := range []struct {
		name, method, host, path string
		client                   *http.Client
		h                        http.Header
		want                     int
		body                     string
	}{
		{"method allowed", "GET", "method.localhost", "/", nil, nil, 200, ""},
		{"method denied with explanation", "POST", "method.localhost", "/", nil, nil, 403, "why: This service is read-only.\nwhat to do: Use the admin route to change things."},
		{"path allowed", "GET", "path.localhost", "/public/x", nil, nil, 200, ""},
		{"path denied", "GET", "path.localhost", "/private", nil, nil, 403, ""},
		{"source ip allowed", "GET", "ip.localhost", "/", nil, nil, 200, ""},
		{"source ip denied", "GET", "otherip.localhost", "/", nil, nil, 403, ""},
		{"day, time and date allowed", "GET", "when.localhost", "/", nil, nil, 200, ""},
		{"date denied", "GET", "never.localhost", "/", nil, nil, 403, ""},
		{"client certificate allowed", "GET", "cert.localhost", "/", e.newClient(&alice), nil, 200, ""},
		{"other client certificate denied", "GET", "cert.localhost", "/", e.newClient(&bob), nil, 403, ""},
		{"cors preflight allowed", "OPTIONS", "preflight.localhost", "/", nil, hdr("Origin", "https://x.example", "Access-Control-Request-Method", "GET"), 200, ""},
		{"not a preflight signs in", "GET", "preflight.localhost", "/", nil, nil, 302, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			if c == nil {
				c = e.client
			}
			resp, body := e.do(c, tc.method, e.url(tc.host, tc.path), tc.h)
			if resp.StatusCode != tc.want || !strings.Contains(body, tc.body) {
				t.Errorf("got %d %q; want %d containing %q", resp.StatusCode, body, tc.want, tc.body)
			}
		})
	}
}
