package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2ETCPByRouteName: after one login, `pomerium-cli tcp echo` (a route
// name, no server, no TLS flags) finds the route on the remembered server
// and carries bytes; unknown names list the candidates. Real binary.
func TestE2ETCPByRouteName(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	if code, _, _ := e.runBin("login", ds.URL.String(), "--alternate-ca-path", e.ca, "--browser-cmd", e.browser); code != 0 {
		t.Fatalf("login: exit %d", code)
	}

	// login cached the routes list: names complete at once, from the cache.
	if code, out, _ := e.runBin("__complete", "tcp", ""); code != 0 || !strings.Contains(out, "echo\t") || !strings.Contains(out, "admin-echo\t") {
		t.Errorf("__complete tcp after login: exit %d, %q; want the route names", code, out)
	}
	if code, _, stderr := e.runBin("tcp", "nosuch"); code != 1 || !strings.Contains(stderr, `no tcp route named "nosuch"; tcp routes: admin-echo (`) ||
		!strings.Contains(stderr, "echo (tcp+https://"+ds.Addr+"/echo.internal:7000)") || !strings.Contains(stderr, "routes list") {
		t.Errorf("tcp nosuch: exit %d, %q; want 1 listing the tcp routes and the routes list hint", code, stderr)
	}

	_, stderr, done := startBinary(t, e, "tcp", "echo", "--listen", "127.0.0.1:0")
	m := testutil.WaitMatch(t, "tcp echo stderr", stderr.String, regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+): connections go to echo\.internal:7000`), done)
	if !strings.Contains(stderr.String(), "Route echo: tcp+https://"+ds.Addr+"/echo.internal:7000") {
		t.Errorf("stderr %q; want the route named with its from URL", stderr.String())
	}
	msg := []byte(strings.Repeat("by name ", 2000))
	if got := roundTrip(t, m[1], msg); string(got) != string(msg) {
		t.Fatalf("echo through `tcp echo` returned %d bytes; want the %d sent", len(got), len(msg))
	}
	if n := e.browserRuns(); n != 1 {
		t.Errorf("browser ran %d times; want 1 (the login)", n)
	}
}

// TestE2ECopiedConnectCommand: the connect_command routes list shows,
// pasted as is (plus --listen), works with no TLS flags: the server's
// remembered profile supplies the CA (issue 17 item 6). Real binary.
func TestE2ECopiedConnectCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	code, out, _ := e.runBin("routes", "list", ds.URL.String(), "-o", "json", "--alternate-ca-path", e.ca, "--browser-cmd", e.browser)
	words := connectWords(t, code, out, "echo")
	if len(words) < 3 || words[0] != "pomerium-cli" {
		t.Fatalf("echo's connect_command = %q; want pomerium-cli tcp ...", words)
	}
	_, stderr, done := startBinary(t, e, append(words[1:], "--listen", "127.0.0.1:0")...)
	m := testutil.WaitMatch(t, "pasted command stderr", stderr.String, regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+)`), done)
	msg := []byte("pasted as shown")
	if got := roundTrip(t, m[1], msg); string(got) != string(msg) {
		t.Fatalf("echo = %q; want %q", got, msg)
	}
}
