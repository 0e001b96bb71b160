package server_test

import (
	"context"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devidp"
)

// TestSignInPageAndDevUserGroups signs in by choosing a user on the
// built-in provider's page (no auto-login), with an extra dev user whose
// group a configured route's PPL policy requires.
func TestSignInPageAndDevUserGroups(t *testing.T) {
	cfg, err := config.Parse([]byte(`
routes:
  - from: tcp+https://ops.internal:9000
    to: tcp://127.0.0.1:9
    name: ops-db
    policy:
      allow:
        and:
          - groups:
              has: ops
`))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	users := append(append([]devidp.User{}, devidp.DefaultUsers...), devidp.User{Email: "ops@example.com", Name: "Ops", Groups: []string{"ops"}})
	s, err := server.New(server.Options{Dev: true, DevDir: t.TempDir(), Address: ln.Addr().String(), Config: cfg, DevUsers: users})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background(), ln)
	defer s.Shutdown(context.Background())
	d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: ln.Addr().String()}, Addr: ln.Addr().String(), CAPool: s.CAPool()}

	actionRE := regexp.MustCompile(`action="([^"]+)"`)
	idRE := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	for _, tc := range []struct {
		email   string
		wantOps bool
	}{
		{"ops@example.com", true},
		{"guest@example.com", false},
	} {
		t.Run(tc.email, func(t *testing.T) {
			c := browser(t, d)
			resp, page := get(t, c, d.URL.String()+"/.pomerium/routes", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, "ops@example.com") || !strings.Contains(page, "dev@example.com") {
				t.Fatalf("sign-in page: got %d %q; want 200 listing the dev users", resp.StatusCode, page)
			}
			am, im := actionRE.FindStringSubmatch(page), idRE.FindStringSubmatch(page)
			if am == nil || im == nil {
				t.Fatalf("sign-in page has no form: %q", page)
			}
			resp, err := c.PostForm(html.UnescapeString(am[1]), url.Values{"authRequestID": {html.UnescapeString(im[1])}, "email": {tc.email}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/.pomerium/routes" {
				t.Fatalf("after choosing %s: got %d at %s; want 200 on /.pomerium/routes", tc.email, resp.StatusCode, resp.Request.URL)
			}
			resp, body := get(t, c, d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Accept": "application/json"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("routes API: got %d %q", resp.StatusCode, body)
			}
			if got := slices.Contains(routeNames(t, body), "ops-db"); got != tc.wantOps {
				t.Errorf("ops-db listed for %s: got %v; want %v (%s)", tc.email, got, tc.wantOps, body)
			}
		})
	}
}
