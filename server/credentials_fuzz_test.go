package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzStripCredentials: after stripping, no cookie a parser would read
// as the proxy's, no X-Pomerium-* header in any spelling and no
// pomerium_session query key is left, whatever the request carried.
func FuzzStripCredentials(f *testing.F) {
	for _, c := range hostileCookies {
		f.Add(c, "X_Pomerium_Claim_Email", "x=1&pomerium_session=T")
	}
	f.Add("a=1", "x-pomerium-jwt-assertion", "pomerium%5Fsession=T;y=2")
	f.Add("", "Authorization", "")
	f.Fuzz(func(t *testing.T, cookie, header, query string) {
		h := http.Header{"Cookie": {cookie}}
		h[header] = []string{"v"}
		u := &url.URL{Path: "/", RawQuery: query}
		stripCredentials(h, u)
		r := &http.Request{Header: h}
		if c, err := r.Cookie(sessionCookie); err == nil {
			t.Fatalf("Cookie %q: %s=%q still there", cookie, c.Name, c.Value)
		}
		for _, line := range h.Values("Cookie") {
			for _, part := range strings.Split(line, ";") {
				if name, _, _ := strings.Cut(part, "="); isProxyCookie(name) {
					t.Fatalf("Cookie %q: %q still there", cookie, part)
				}
			}
		}
		for k := range h {
			if isProxyHeader(k) {
				t.Fatalf("header %q still there", k)
			}
		}
		for _, pair := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
			k, _, _ := strings.Cut(pair, "=")
			if strings.EqualFold(strings.TrimSpace(queryUnescape(k)), "pomerium_session") {
				t.Fatalf("query %q: %q still there", query, pair)
			}
		}
		if u.Query().Has("pomerium_session") {
			t.Fatalf("query %q: Go's parser still finds pomerium_session in %q", query, u.RawQuery)
		}
	})
}
