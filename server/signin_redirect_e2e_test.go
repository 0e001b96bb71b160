package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestSignInReturnNeverLeavesHost signs in with hostile "return" values
// and follows the flow to the server's final Location: it must be
// refused up front or be a path on this host as a browser reads it.
func TestSignInReturnNeverLeavesHost(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	for _, ret := range []string{
		"/./\\evil.example", "/./%5Cevil.example", "/.//evil.example", "/a/..//evil.example", "/a/../\\evil.example",
		"/..//evil.example", "/%2e/%2e%2e//evil.example", "/\\/evil.example", "/\t/evil.example", "/\n/evil.example",
		"/\r\\evil.example", " //evil.example", "/ /evil.example", "/\x0b/evil.example", "/\u0085/evil.example",
		"/\u2028/evil.example", "/\u3000/evil.example", "//evil.example", "///evil.example", "https://evil.example/",
		"https:evil.example", "https:\\\\evil.example", "//" + d.URL.Host + "@evil.example/", "javascript:alert(1)",
		"/.pomerium/../\\evil.example", "/x/./.././/evil.example",
	} {
		t.Run(url.PathEscape(ret), func(t *testing.T) {
			loc, status := signInReturn(t, d, ret)
			if status == http.StatusBadRequest {
				return
			}
			if status != http.StatusFound {
				t.Fatalf("callback answered %d; want 302 or a 400 at sign_in", status)
			}
			// Browsers drop tabs and newlines and read "\" as "/".
			b := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(strings.TrimSpace(loc))
			ref, err := url.Parse(b)
			if err != nil {
				t.Fatalf("final Location %q does not parse: %v", loc, err)
			}
			if got := d.URL.ResolveReference(ref); got.Host != d.URL.Host {
				t.Fatalf("return=%q ends in Location %q, which leads to %s", ret, loc, got)
			}
		})
	}
	// A plain path still works and keeps its query.
	if loc, status := signInReturn(t, d, "/.pomerium/routes?x=1"); status != http.StatusFound || loc != "/.pomerium/routes?x=1" {
		t.Errorf("return=/.pomerium/routes?x=1: got %d %q; want 302 to it", status, loc)
	}
}

// signInReturn runs the browser sign-in with return=ret and reports the
// callback's Location and status (or sign_in's status if it refused).
func signInReturn(t *testing.T, d *testutil.DevServer, ret string) (string, int) {
	t.Helper()
	c := browser(t, d)
	var final *http.Response
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Response != nil && req.Response.Request.URL.Path == "/.pomerium/callback" {
			final = req.Response
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, _ := get(t, c, d.URL.String()+"/.pomerium/sign_in?return="+url.QueryEscape(ret), nil)
	if final == nil {
		if resp.Request.URL.Path == "/.pomerium/callback" {
			return resp.Header.Get("Location"), resp.StatusCode
		}
		return "", resp.StatusCode
	}
	return final.Header.Get("Location"), final.StatusCode
}
