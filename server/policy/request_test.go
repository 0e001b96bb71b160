package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "alice"},
		EmailAddresses: []string{"alice@example.com"}, DNSNames: []string{"laptop.corp.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestRequestCriteria: each request criterion against requests that
// match and requests that do not.
func TestRequestCriteria(t *testing.T) {
	cert := testCert(t)
	fp := sha256.Sum256(cert.Raw)
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	// Wednesday 2026-01-07 10:30 UTC = 05:30 in New York.
	wed := time.Date(2026, 1, 7, 10, 30, 0, 0, time.UTC)
	sat := time.Date(2026, 1, 10, 10, 30, 0, 0, time.UTC)
	base := Request{Method: "GET", Path: "/api/items", SourceIP: net.ParseIP("10.1.2.3"), ClientCert: cert, Time: wed}
	with := func(f func(r *Request)) *Request { r := base; f(&r); return &r }
	for _, tc := range []struct {
		name, ppl string
		yes, no   *Request
	}{
		{"http_method", `allow: {and: [{http_method: {in: [GET, HEAD]}}]}`, &base, with(func(r *Request) { r.Method = "POST" })},
		{"http_method is", `allow: {and: [{http_method: {is: POST}}]}`, with(func(r *Request) { r.Method = "post" }), &base},
		{"http_path", `allow: {and: [{http_path: {starts_with: /api/}}]}`, &base, with(func(r *Request) { r.Path = "/admin" })},
		{"source_ip cidr", `allow: {and: [{source_ip: 10.0.0.0/8}]}`, &base, with(func(r *Request) { r.SourceIP = net.ParseIP("192.168.1.1") })},
		{"source_ip list", `allow: {and: [{source_ip: [192.168.1.1, "2001:db8::/32"]}]}`, with(func(r *Request) { r.SourceIP = net.ParseIP("2001:db8::5") }), &base},
		{"cors_preflight", `allow: {and: [{cors_preflight: true}]}`, with(func(r *Request) { r.CORSPreflight = true }), &base},
		{"pomerium_routes", `allow: {and: [{pomerium_routes: true}]}`, with(func(r *Request) { r.Path = "/.pomerium/routes" }), &base},
		{"client_certificate fingerprint", `allow: {and: [{client_certificate: {fingerprint: ` + hex.EncodeToString(fp[:]) + `}}]}`, &base, with(func(r *Request) { r.ClientCert = nil })},
		{"client_certificate spki_hash", `allow: {and: [{client_certificate: {spki_hash: "` + base64.StdEncoding.EncodeToString(spki[:]) + `"}}]}`, &base, with(func(r *Request) { r.ClientCert = testCert(t) })},
		{"client_certificate san", `allow: {and: [{client_certificate: {san_email: {ends_with: "@example.com"}, san_dns: {ends_with: .corp.example.com}}}]}`, &base, with(func(r *Request) { r.ClientCert = nil })},
		{"date", `allow: {and: [{date: {after: "2026-01-01T00:00:00Z", before: "2026-01-08T00:00:00Z"}}]}`, &base, with(func(r *Request) { r.Time = sat })},
		{"day_of_week range", `allow: {and: [{day_of_week: mon-fri}]}`, &base, with(func(r *Request) { r.Time = sat })},
		{"day_of_week wraps", `allow: {and: [{day_of_week: fri-mon}]}`, with(func(r *Request) { r.Time = sat }), &base},
		{"day_of_week zone", `allow: {and: [{day_of_week: {days: tue, timezone: Pacific/Honolulu}}]}`, with(func(r *Request) { r.Time = time.Date(2026, 1, 7, 5, 0, 0, 0, time.UTC) }), &base},
		{"time_of_day", `allow: {and: [{time_of_day: {after: "9:00", before: "17:00"}}]}`, &base, with(func(r *Request) { r.Time = wed.Add(8 * time.Hour) })},
		{"time_of_day zone", `allow: {and: [{time_of_day: {after: "5:00 AM", before: "6:00 AM", timezone: America/New_York}}]}`, &base, with(func(r *Request) { r.Time = wed.Add(time.Hour) })},
		{"time_of_day seconds", `allow: {and: [{time_of_day: {after: "00:00", before: "23:59:59"}}]}`, with(func(r *Request) { r.Time = time.Date(2026, 1, 7, 23, 59, 30, 0, time.UTC) }), with(func(r *Request) { r.Time = time.Date(2026, 1, 7, 23, 59, 59, 0, time.UTC) })},
		{"time_of_day after seconds", `allow: {and: [{time_of_day: {after: "09:00:30"}}]}`, with(func(r *Request) { r.Time = time.Date(2026, 1, 7, 9, 0, 30, 0, time.UTC) }), with(func(r *Request) { r.Time = time.Date(2026, 1, 7, 9, 0, 29, 0, time.UTC) })},
		{"time_of_day overnight", `allow: {and: [{time_of_day: {after: "22:00", before: "06:00"}}]}`, with(func(r *Request) { r.Time = time.Date(2026, 1, 7, 23, 0, 0, 0, time.UTC) }), &base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.ppl))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.EvaluateRequest(nil, tc.yes); got != Allow {
				t.Errorf("matching request: got %v; want allow", got)
			}
			if got := p.EvaluateRequest(nil, tc.no); got != Deny {
				t.Errorf("other request: got %v; want deny", got)
			}
		})
	}
}

func TestRequestCriteriaErrors(t *testing.T) {
	for _, tc := range []struct{ ppl, want string }{
		{`allow: {or: [{source_ip: nowhere}]}`, "IP address or CIDR"},
		{`allow: {or: [{date: {after: tomorrow}}]}`, "RFC 3339"},
		{`allow: {or: [{time_of_day: {after: "25:99"}}]}`, "want a time like"},
		{`allow: {or: [{time_of_day: {after: "9:00", timezone: Mars/Olympus}}]}`, "unknown zone"},
		{`allow: {or: [{client_certificate: {fingerprint: abc}}]}`, "SHA-256"},
		{`allow: {or: [{cors_preflight: false}]}`, "want true"},
		{`allow: {or: [{http_method: [GET]}]}`, "http_method"},
	} {
		if _, err := Parse([]byte(tc.ppl)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want an error mentioning %q", tc.ppl, err, tc.want)
		}
	}
}

func TestExplanationRemediation(t *testing.T) {
	p, err := Parse([]byte("allow: {or: [{email: {is: a@example.com}}]}\nexplanation: Only the on-call engineer.\nremediation: \"Ask in #oncall.\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Explanation != "Only the on-call engineer." || p.Remediation != "Ask in #oncall." {
		t.Errorf("got %q / %q", p.Explanation, p.Remediation)
	}
	if q := p.Or(AllowAnyOf(Accept())); q.Explanation != p.Explanation {
		t.Errorf("Or lost the explanation: %q", q.Explanation)
	}
}
