package tui_test

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// TestPickSavedE2E opens a tunnel from the Saved tab of the real binary,
// with the connection read from a real store file. It passes
// --alternate-ca-path like TestPickE2E: without it the tunnel's CONNECT uses
// the saved CA file but sign-in still uses the flags' trust store and fails
// (tunnelConfig in cli/cmdutil shares one Authenticator).
func TestPickSavedE2E(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	curl := testutil.Require(t, "curl")
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	dir := t.TempDir()
	browser, envv := signInSetup(t, curl, ds.CAFile, dir)

	store := connections.NewStore(filepath.Join(dir, "connections.json"))
	if _, err := store.Put(connections.Connection{
		Name:        "saved-echo",
		Destination: "tcp+https://" + ds.Addr + "/echo.internal:7000",
		TLS:         tlsconfig.Options{CAFile: ds.CAFile},
		Tags:        []string{"e2e-tag"},
	}); err != nil {
		t.Fatalf("saving the connection: %v", err)
	}

	p := startPane(t, "saved", envv, []string{bin, "routes", "pick", ds.URL.String(),
		"--alternate-ca-path", ds.CAFile, "--browser-cmd", browser})
	// Signing in happens while the routes load; wait for it so the tunnel
	// below finds a session.
	p.waitFor("routes listed", regexp.MustCompile(`(\d+) of (\d+) routes`))

	p.keys("Tab")
	p.waitFor("saved tab", regexp.MustCompile(`(?m)1 of 1 saved connections[\s\S]*^> saved-echo +tcp +tcp\+https://.*e2e-tag`))
	if screen := p.capture(); strings.Contains(screen, "admin-echo") {
		t.Errorf("saved tab shows a portal route:\n%s", screen)
	}

	p.keys("Enter")
	p.waitFor("address prompt", regexp.MustCompile(`Open a tunnel to saved-echo[\s\S]*listen on: 127\.0\.0\.1:0`))
	p.keys("Enter")
	m := p.waitFor("tunnel panel", regexp.MustCompile(`Tunnel  saved-echo[\s\S]*Local address:  (127\.0\.0\.1:\d+)[\s\S]*State: +listening`))
	addr := m[1]

	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatalf("dial the shown local address %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	const msg = "hello through a saved connection\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != msg {
		p.waitFor("failed connection", regexp.MustCompile(`0 active, 1 total`)) // logs the tunnel's events
		t.Fatalf("echo through %s: got %q, %v; want %q", addr, got, err, msg)
	}
	c.Close()
	p.waitFor("closed connection", regexp.MustCompile(`0 active, 1 total[\s\S]*closed #1`))

	p.keys("q")
	p.waitFor("back to the saved list", regexp.MustCompile(`(?m)1 of 1 saved connections[\s\S]*^> saved-echo[\s\S]*stopped saved-echo`))
	if _, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		t.Errorf("local address %s still accepts after q", addr)
	}

	p.keys("q")
	m = p.waitFor("exit", regexp.MustCompile(`EXIT:(\d+)`))
	if m[1] != "0" {
		t.Errorf("exit code: got %s; want 0", m[1])
	}
}
