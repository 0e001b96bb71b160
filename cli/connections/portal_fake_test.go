package connections_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/porthole-dev/porthole/portalclient"
)

// TestPortalImportRouteDropped drives `import --portal` against a portal
// whose route list changes between imports (the dev server's does not),
// signed in with a service account token.
func TestPortalImportRouteDropped(t *testing.T) {
	var mu sync.Mutex
	routes := []portalclient.Route{
		{ID: "r-pg", Name: "postgres", Type: "tcp", From: "tcp+https://postgres.example.com:5432"},
		{ID: "r-ssh", Name: "ssh", Type: "tcp", From: "tcp+https://proxy.example.com/ssh.internal:22"},
		{ID: "r-web", Name: "web", Type: "http", From: "https://web.example.com"},
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.pomerium/api/v1/routes" || r.Header.Get("Authorization") != "Bearer Pomerium-sa-token" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"Unauthenticated"}`))
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"routes": routes})
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	imp := func(extra ...string) string {
		t.Helper()
		_, errOut := e.must(append([]string{"import", "--portal", srv.URL, "--service-account", "sa-token", "--yes", "--alternate-ca-path", ca}, extra...)...)
		return errOut
	}
	names := func() []string {
		var n []string
		for _, c := range listJSON(t, e) {
			n = append(n, c.Name)
		}
		return n
	}

	imp("--tag", "work")
	if got := names(); !slices.Equal(got, []string{"postgres", "ssh"}) {
		t.Fatalf("first import: %q; want postgres, ssh (tcp only)", got)
	}
	e.must("edit", "ssh", "--listen", "127.0.0.1:2222")

	mu.Lock()
	routes = []portalclient.Route{routes[0], {ID: "r-redis", Name: "redis", Type: "tcp", From: "tcp+https://redis.example.com:6379"}}
	mu.Unlock()

	out := imp("--tag", "work")
	for _, want := range []string{`(?m)^  add +redis +tcp\+https://redis.example.com:6379  \[work\]`, `(?m)^  unchanged +postgres`, `(?m)^  would remove +ssh +`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("preview:\n%s\nwant %q", out, want)
		}
	}
	if got := names(); !slices.Equal(got, []string{"postgres", "redis", "ssh"}) {
		t.Errorf("without --remove: %q; want ssh kept", got)
	}
	if c := byName(t, listJSON(t, e), "ssh"); c.ListenAddr != "127.0.0.1:2222" {
		t.Errorf("ssh listen %q; want the user's 127.0.0.1:2222", c.ListenAddr)
	}
	out = imp("--tag", "work", "--remove")
	if !regexp.MustCompile(`(?m)^  remove +ssh +`).MatchString(out) || !strings.Contains(out, "1 removed") {
		t.Errorf("with --remove:\n%s\nwant ssh removed", out)
	}
	if got := names(); !slices.Equal(got, []string{"postgres", "redis"}) {
		t.Errorf("with --remove: %q; want postgres, redis", got)
	}

	_, _, err := e.run("import", "--portal", srv.URL, "--service-account", "wrong", "--alternate-ca-path", ca)
	if err == nil || !strings.Contains(err.Error(), "fetching routes from "+srv.URL) {
		t.Errorf("wrong token: %v; want a fetching routes error", err)
	}
}
