package cli_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// runBin runs the real pomerium-cli binary as e's user.
func (e *env) runBin(args ...string) (int, string, string) {
	e.t.Helper()
	bin := testutil.BuildBinary(e.t, "pomerium-cli")
	cmd := exec.Command(bin, args...)
	cmd.Env = e.binEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	e.t.Logf("pomerium-cli %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errOut.String())
	return code, out.String(), errOut.String()
}

// TestE2ERememberedServer: the first run names the server and its CA; later
// runs need neither (issue 17 item 1), with the real binary.
func TestE2ERememberedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	url := ds.URL.String()

	if code, out, _ := e.runBin("routes", "list", url, "--alternate-ca-path", e.ca, "--browser-cmd", e.browser); code != 0 || !strings.Contains(out, "echo") {
		t.Fatalf("first routes list: exit %d, out %q; want 0 and the echo route", code, out)
	}
	// No server, no TLS flags: the remembered server and its CA.
	code, out, stderr := e.runBin("routes", "list")
	if code != 0 || !strings.Contains(out, "echo") {
		t.Fatalf("routes list with no arguments: exit %d, out %q, stderr %q; want the routes (remembered server and CA)", code, out, stderr)
	}
	// The known server named without TLS flags gets its profile too.
	if code, out, _ := e.runBin("routes", "list", url); code != 0 || !strings.Contains(out, "echo") {
		t.Fatalf("routes list %s without TLS flags: exit %d; want 0", url, code)
	}
	if n := e.browserRuns(); n != 1 {
		t.Errorf("browser ran %d times; want 1 (token cached)", n)
	}
	// A TLS flag given wins over the profile: a CA that does not sign the
	// server's certificate fails.
	wrongCA := testutil.StartDevServer(t).CAFile
	if code, _, stderr := e.runBin("routes", "list", "--alternate-ca-path", wrongCA); code == 0 || !strings.Contains(stderr, "certificate") {
		t.Errorf("routes list with another CA: exit %d, stderr %q; want a certificate error (flags override the profile)", code, stderr)
	}

	code, out, _ = e.runBin("servers", "list", "-o", "json")
	var ps []struct {
		URL    string `json:"url"`
		CAFile string `json:"alternate_ca_path"`
	}
	if err := json.Unmarshal([]byte(out), &ps); code != 0 || err != nil || len(ps) != 1 || ps[0].URL != url || ps[0].CAFile != e.ca {
		t.Fatalf("servers list -o json: exit %d, %v, %q; want one server %s with CA %s", code, err, out, url, e.ca)
	}
	if code, out, _ := e.runBin("servers", "list"); code != 0 || !strings.Contains(out, "* ") || !strings.Contains(out, url) {
		t.Errorf("servers list: exit %d, %q; want %s marked as default", code, out, url)
	}
	if code, _, _ := e.runBin("servers", "forget", url); code != 0 {
		t.Fatalf("servers forget: exit %d", code)
	}
	if code, _, stderr := e.runBin("routes", "list"); code != 2 || !strings.Contains(stderr, "no server URL given") {
		t.Errorf("routes list after forget: exit %d, %q; want 2 and no server remembered", code, stderr)
	}
	if code, _, stderr := e.runBin("servers", "forget", url); code != 1 || !strings.Contains(stderr, "not a remembered server") {
		t.Errorf("servers forget again: exit %d, %q; want 1 naming the mistake", code, stderr)
	}
}
