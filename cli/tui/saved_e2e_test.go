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
// with the connection read from a real store file: once with the dev CA
// given as a flag (routes load, sign-in happens then), and once with no
// TLS flags, where only the saved connection trusts the dev CA: the routes
// tab fails verification, and the tunnel must sign in with the saved CA.
func TestPickSavedE2E(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	curl := testutil.Require(t, "curl")
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	for _, tt := range []struct {
		name    string
		flags   func(browser string) []string
		startup *regexp.Regexp
	}{
		{
			name: "ca flag",
			flags: func(browser string) []string {
				return []string{"--alternate-ca-path", ds.CAFile, "--browser-cmd", browser}
			},
			startup: regexp.MustCompile(`(\d+) of (\d+) routes`),
		},
		{
			name:    "saved ca only",
			flags:   func(browser string) []string { return []string{"--browser-cmd", browser} },
			startup: regexp.MustCompile(`error: routes: `),
		},
	} {
		t.Run(tt.name, func(t *testing.T) { pickSaved(t, bin, curl, ds, tt.flags, tt.startup) })
	}
}

func pickSaved(t *testing.T, bin, curl string, ds *testutil.DevServer, flags func(string) []string, startup *regexp.Regexp) {
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

	p := startPane(t, "saved", envv, append([]string{bin, "routes", "pick", ds.URL.String()}, flags(browser)...))
	// Wait for the routes tab to settle (listed after a sign-in, or failed)
	// so the Tab below is not raced by the first load.
	p.waitFor("routes tab settled", startup)

	p.keys("Tab")
	// The Saved tab's own columns, each headed by what it shows.
	p.waitFor("saved tab", regexp.MustCompile(`(?m)1 of 1 saved connections\n  NAME +TYPE +LISTEN ADDRESS +DESTINATION +TAGS\n> saved-echo +tcp +auto +tcp\+https://.*/echo\.internal:7000 +e2e-tag$`))
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
	// The sign-in is over: neither its banner nor the flow's lead-in line
	// may linger on the screen.
	if screen := p.capture(); strings.Contains(screen, "Sign in to continue") || strings.Contains(screen, "browser has been opened") {
		t.Errorf("sign-in notice still shown after the connection worked:\n%s", screen)
	}

	p.keys("q")
	p.waitFor("back to the saved list", regexp.MustCompile(`(?m)1 of 1 saved connections[\s\S]*^> saved-echo[\s\S]*stopped saved-echo`))
	// Its row now says how its tunnel ended.
	p.waitFor("status column", regexp.MustCompile(`(?m)^  NAME .*DESTINATION +TAGS +STATUS\n> saved-echo .*/echo\.internal:7000 +e2e-t\S* +stopped, 1 connection$`))
	if _, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		t.Errorf("local address %s still accepts after q", addr)
	}

	p.keys("q")
	m = p.waitFor("exit", regexp.MustCompile(`EXIT:(\d+)`))
	if m[1] != "0" {
		t.Errorf("exit code: got %s; want 0", m[1])
	}
}
