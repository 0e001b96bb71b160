package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2EStatus: login names the user; status shows the user (email and
// name, groups count: from the server's /.pomerium/user), expiry, token
// store and the server's verdict, as text, JSON and YAML, with the real
// binary.
func TestE2EStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	url := ds.URL.String()

	if code, _, stderr := e.runBin("status"); code != 2 || !strings.Contains(stderr, "none remembered") {
		t.Errorf("status before any server: exit %d, %q; want 2 and the login hint", code, stderr)
	}
	code, _, stderr := e.runBin("login", url, "--alternate-ca-path", e.ca, "--browser-cmd", e.browser)
	if code != 0 || !strings.Contains(stderr, "Signed in to "+ds.Addr+" as dev@example.com") {
		t.Fatalf("login: exit %d, stderr %q; want Signed in to %s as dev@example.com", code, stderr, ds.Addr)
	}
	// A second login needs neither the URL nor the CA: both are remembered.
	if code, _, stderr := e.runBin("login", "--browser-cmd", e.browser); code != 0 || !strings.Contains(stderr, "Signed in to "+ds.Addr+" as dev@example.com") {
		t.Fatalf("login with no URL: exit %d, stderr %q; want the remembered server signed in again", code, stderr)
	}
	code, out, _ := e.runBin("status")
	for _, want := range []string{url + "\n", "Signed in as dev@example.com (Dev User), 1 group", "Session expires ", "Token store: file " + e.cache, "Server accepts the token: yes"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status: exit %d, out %q; want it to hold %q", code, out, want)
		}
	}
	code, out, _ = e.runBin("status", url, "-o", "json")
	var st []struct {
		Server     string    `json:"server"`
		SignedIn   bool      `json:"signed_in"`
		Email      string    `json:"email"`
		Name       string    `json:"name"`
		Groups     *int      `json:"groups"`
		Expires    time.Time `json:"expires"`
		TokenStore string    `json:"token_store"`
		TokenPath  string    `json:"token_path"`
		Accepted   *bool     `json:"accepted"`
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || len(st) != 1 {
		t.Fatalf("status -o json: exit %d, %v, %q", code, err, out)
	}
	s := st[0]
	if s.Server != url || !s.SignedIn || s.Email != "dev@example.com" || s.Name != "Dev User" || s.Groups == nil || *s.Groups != 1 || s.TokenStore != "file" || s.Accepted == nil || !*s.Accepted ||
		time.Until(s.Expires) <= 0 {
		t.Errorf("status -o json = %+v; want signed in as dev@example.com (Dev User, 1 group), accepted, expiring later", s)
	}
	if fi, err := os.Stat(s.TokenPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token_path %q: %v; want the 0600 token file", s.TokenPath, err)
	}
	if code, out, _ := e.runBin("status", "-o", "yaml"); code != 0 || !strings.Contains(out, "email: dev@example.com") || !strings.Contains(out, "name: Dev User") {
		t.Errorf("status -o yaml: exit %d, %q", code, out)
	}
	if b, err := os.ReadFile(s.TokenPath); err == nil && strings.Contains(out, strings.TrimSpace(string(b))) {
		t.Errorf("status printed the token itself")
	}

	// A server restarted with new keys no longer accepts the token.
	ds.Restart(t)
	if code, out, _ := e.runBin("status"); code != 0 || !strings.Contains(out, "Server accepts the token: no") {
		t.Errorf("status after a server restart: exit %d, %q; want the server refusing the token", code, out)
	}
	if code, _, _ := e.runBin("logout", url); code != 0 {
		t.Fatalf("logout: exit %d", code)
	}
	if code, out, _ := e.runBin("status"); code != 0 || !strings.Contains(out, "Not signed in: run pomerium-cli login "+url) {
		t.Errorf("status after logout: exit %d, %q; want Not signed in", code, out)
	}
}
