package cli_test

import (
	"os"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2EKeyring: with a real Secret Service (gnome-keyring under
// dbus-run-session, as scripts/with-keyring.sh and make test provide) the
// token goes to the keyring, not to a file, and the second command opens
// no browser.
func TestE2EKeyring(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if os.Getenv("PORTHOLE_KEYRING") != "1" {
		if os.Getenv("PORTHOLE_STRICT") == "1" {
			t.Fatal("PORTHOLE_KEYRING is not set: run under scripts/with-keyring.sh (make test does)")
		}
		t.Skip("no Secret Service: run under scripts/with-keyring.sh")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	e.extraEnv = map[string]string{"POMERIUM_CLI_NO_KEYRING": ""}
	url := ds.URL.String()

	code, out, stderr := e.run(e.args("routes", "list", url)...)
	if code != 0 {
		t.Fatalf("routes list: exit %d\n%s", code, stderr)
	}
	assertTableHasEcho(t, out, ds)
	if strings.Contains(stderr, "Tokens are kept in files") {
		t.Errorf("stderr = %q; want the keyring used, not the file fallback", stderr)
	}
	code, out, _ = e.run(e.args("auth", url)...)
	tok := strings.TrimSpace(out)
	if code != 0 || !jwtRE.MatchString(tok) {
		t.Fatalf("auth: exit %d, stdout %q; want a JWT", code, out)
	}
	if got := e.browserRuns(); got != 1 {
		t.Errorf("browser ran %d times; want 1 (second call from the keyring)", got)
	}
	if e.cacheHolds(tok) {
		t.Errorf("the token is in a file under %s; want it only in the keyring", e.cache)
	}
	if code, out, _ := e.run(e.args("status", url)...); code != 0 || !strings.Contains(out, "Token store: keyring\n") ||
		!strings.Contains(out, "Signed in as dev@example.com (Dev User)") || !strings.Contains(out, "Server accepts the token: yes") {
		t.Errorf("status: exit %d, %q; want the keyring named as the token store", code, out)
	}
	if code, _, _ := e.run(e.args("logout", url)...); code != 0 {
		t.Fatalf("logout: exit %d", code)
	}
	if code, _, stderr := e.run(e.args("logout", url)...); code != 0 || !strings.Contains(stderr, "Not signed in") {
		t.Errorf("second logout: exit %d, stderr %q; want 0 and Not signed in (the keyring entry is gone)", code, stderr)
	}
}
