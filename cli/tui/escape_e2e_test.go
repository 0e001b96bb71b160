package tui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
)

// TestPickEscapesHostilePortal runs the real picker in tmux against a
// portal whose routes carry terminal escapes, recording every byte the
// program writes to its pty: none of the payloads may reach it raw, and
// the screen shows them escaped.
func TestPickEscapesHostilePortal(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	script := testutil.Require(t, "script")
	var routes []portalclient.Route
	for i, s := range termtest.Samples {
		routes = append(routes, portalclient.Route{ID: fmt.Sprint(i), Name: s, Type: "tcp",
			From: "tcp+https://proxy.example.com/db" + fmt.Sprint(i) + ":5432", Description: s})
	}
	body, err := json.Marshal(map[string]any{"routes": routes})
	if err != nil {
		t.Fatal(err)
	}
	portal, ca := testutil.FakePortal(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	dir := t.TempDir()
	raw := filepath.Join(dir, "pty.raw")
	envv := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config", "XDG_CACHE_HOME=" + dir + "/cache",
		"POMERIUM_CLI_NO_KEYRING=1", "POMERIUM_CLI_CONNECTIONS=" + dir + "/connections.json", "TERM=xterm-256color"}
	cmdline := strings.Join([]string{shq(bin), "routes", "pick", shq(portal), "--alternate-ca-path", shq(ca), "--no-browser"}, " ")
	// script(1) gives the picker a pty of its own and keeps every byte it
	// writes there, escapes included, in raw.
	p := startPane(t, "hostile", envv, []string{script, "-qfec", cmdline, raw})
	want := fmt.Sprintf("%d of %d routes", len(routes), len(routes))
	p.waitFor("hostile routes listed", regexp.MustCompile(regexp.QuoteMeta(want)))
	p.keys("Down", "Down", "Down")
	p.run("resize-window", "-t", "pick", "-x", "160", "-y", "40")
	p.waitFor("escaped names on screen", regexp.MustCompile(`osc52\\x1b\]52;c`))
	// Narrow, filtered and highlighted: names cut, from values shortened
	// around the escaped text, still nothing raw.
	p.run("resize-window", "-t", "pick", "-x", "40", "-y", "24")
	p.waitFor("narrow layout", regexp.MustCompile(`(?m)^  NAME +TYPE +FROM$`))
	p.keys("-l", "clear")
	p.waitFor("filtered and highlighted", regexp.MustCompile(`(?m)1 of 17 routes[\s\S]*^> clear\\x1b\[2`))
	// Esc and q apart: sent together they read as Alt+q.
	p.keys("Escape")
	p.waitFor("filter cleared", regexp.MustCompile(`17 of 17 routes`))
	p.keys("q")
	p.waitFor("exit", regexp.MustCompile(`EXIT:0`))

	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x1b]52", "\x1b]0;pwned", "\x1b]8;;", "\x1b[2J\x1b[Hx", "\u009b", "\u009d", "\u0085",
		"\u202e", "\u2066", "\x00", "\x7f", "\xff\xfe", "sgr\x1b[31m", "bel\a", "cr\rover", "lf\nX-Injected"} {
		if i := bytes.Index(b, []byte(bad)); i >= 0 {
			lo, hi := max(0, i-40), min(len(b), i+40)
			t.Errorf("raw pty output carries %q at %d: ...%q...", bad, i, b[lo:hi])
		}
	}
	for _, shown := range []string{`osc52\x1b]52;c`, `c1csi\u009b2J`, `rlo\u202egnp`, `nul\x00x`} {
		if !bytes.Contains(b, []byte(shown)) {
			t.Errorf("raw pty output lacks the escaped form %q", shown)
		}
	}
}
