package tui_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/porthole-dev/porthole/cli/tui"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// rankConfig adds routes to the dev server's four (echo, admin-echo,
// verify, public) so that "db" matches a name prefix, a name substring
// listed before it, and a description, and one route has wide runes.
const rankConfig = `
routes:
  - from: tcp+https://mydb-replica.localhost:5432
    to: tcp://127.0.0.1:1
    name: mydb-replica
    description: read-only copy
    allow_any_authenticated_user: true
  - from: tcp+https://warehouse.localhost:5439
    to: tcp://127.0.0.1:1
    name: analytics
    description: reports from the db replica
    allow_any_authenticated_user: true
  - from: tcp+https://db-primary.localhost:5432
    to: tcp://127.0.0.1:1
    name: db-primary
    description: the main database
    allow_any_authenticated_user: true
  - from: tcp+https://tokyo-a-very-long-host-name-for-the-layout.localhost:15432
    to: tcp://127.0.0.1:1
    name: 本番データベース東京リージョン
    description: 東京リージョンの本番データベース（読み書き）
    allow_any_authenticated_user: true
`

// TestPickRankingAndNarrowE2E runs the real picker in tmux against the
// dev server: typing "db" puts the name-prefix match first (highlighted),
// then the name that holds it, then the description match; ctrl+y copies
// the first row's command through OSC 52 into tmux's buffer; at 60 and 40
// columns no row wraps and every tcp row keeps its destination host:port.
func TestPickRankingAndNarrowE2E(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	curl := testutil.Require(t, "curl")
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(rankConfig))
	dir := t.TempDir()
	browser, envv := signInSetup(t, curl, ds.CAFile, dir)
	p := startPane(t, "rank", envv, []string{bin, "routes", "pick", ds.URL.String(),
		"--alternate-ca-path", ds.CAFile, "--browser-cmd", browser})
	// OSC 52 from the program lands in a tmux paste buffer.
	p.run("set-option", "-g", "set-clipboard", "on")

	p.waitFor("routes listed", regexp.MustCompile(`8 of 8 routes`))
	p.keys("-l", "db")
	m := p.waitFor("ranked", regexp.MustCompile(`(?m)filter: db.*3 of 8 routes[\s\S]*^> (db-primary) .*\n  (mydb-replica) .*\n  (analytics) `))
	if m[1] != "db-primary" {
		t.Errorf("first row %q; want db-primary", m[1])
	}
	// The matched characters are underlined: "db" of each name, "db" in
	// the analytics description.
	styled := p.capture("-e")
	for name, want := range map[string]string{"db-primary": "db", "mydb-replica": "db", "analytics": "db"} {
		line := ""
		for _, l := range strings.Split(styled, "\n") {
			if strings.Contains(ansi.Strip(l), " "+name+" ") {
				line = l
			}
		}
		if got := tui.Underlined(line); got != want {
			t.Errorf("row %s: underlined %q; want %q (line %q)", name, got, want, line)
		}
	}

	p.keys("C-y")
	p.waitFor("copied", regexp.MustCompile(`copied: pomerium-cli tcp`))
	buf := waitBuffer(t, p)
	if !strings.Contains(buf, "db-primary.localhost:5432") || strings.ContainsAny(buf, "\n\x1b") {
		t.Errorf("tmux buffer after ctrl+y: %q; want the db-primary command on one line", buf)
	}

	p.keys("Escape")
	p.waitFor("filter cleared", regexp.MustCompile(`8 of 8 routes`))
	for _, tt := range []struct {
		w      int
		header *regexp.Regexp
	}{
		{60, regexp.MustCompile(`(?m)^  NAME +TYPE +FROM$`)}, // DESCRIPTION gave way to the destinations
		{40, regexp.MustCompile(`(?m)^  NAME +FROM$`)},
	} {
		p.run("resize-window", "-t", "pick", "-x", strconv.Itoa(tt.w), "-y", "24")
		// Poll until the redrawn screen passes every check: right after the
		// resize tmux still shows the old frame, cut.
		p.waitUntil("layout at width "+strconv.Itoa(tt.w), func(screen string) error {
			return checkNarrow(screen, tt.header)
		})
	}

	p.keys("q")
	p.waitFor("exit", regexp.MustCompile(`EXIT:0`))
}

// TestPickSignInURLCopiedE2E: with no browser the sign-in URL is shown
// wrapped to a 40-column terminal; m opens it in full and c copies it
// (OSC 52, read back from tmux's buffer); the copied URL, used as is,
// completes the sign-in and the routes appear.
func TestPickSignInURLCopiedE2E(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	curl := testutil.Require(t, "curl")
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	dir := t.TempDir()
	browser, envv := signInSetup(t, curl, ds.CAFile, dir)
	p := startPane(t, "signin", envv, []string{bin, "routes", "pick", ds.URL.String(),
		"--alternate-ca-path", ds.CAFile, "--no-browser", "--login-timeout", "5m"})
	p.run("set-option", "-g", "set-clipboard", "on")
	p.run("resize-window", "-t", "pick", "-x", "40", "-y", "24")

	// The URL wraps inside the layout: the title stays on the first line
	// and the help on the last (a line the terminal wrapped would push
	// the title off the screen).
	p.waitUntil("sign-in banner at 40 columns", func(screen string) error {
		lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
		switch {
		case !strings.Contains(screen, "Sign in to continue:\nhttps://"):
			return fmt.Errorf("no wrapped sign-in banner")
		case len(lines) != 24 || !strings.HasPrefix(lines[0], "pomerium-cli routes pick"):
			return fmt.Errorf("%d lines, first %q; want 24 with the title first", len(lines), lines[0])
		case !strings.HasPrefix(lines[len(lines)-1], "enter open"):
			return fmt.Errorf("last line %q; want the help", lines[len(lines)-1])
		}
		return nil
	})
	p.keys("m")
	p.waitFor("message view", regexp.MustCompile(`Message in full`))
	p.keys("c")
	p.waitFor("copied note", regexp.MustCompile(`copied \d+ characters`))
	u := waitBuffer(t, p)
	if !regexp.MustCompile(`^https://\S+$`).MatchString(u) || len(u) <= 40 {
		t.Fatalf("copied sign-in URL %q; want one whole https URL longer than the screen is wide", u)
	}
	p.keys("Escape")
	// Opening the copied URL as a browser would completes the sign-in.
	out, err := exec.Command(browser, u).CombinedOutput()
	if err != nil {
		t.Fatalf("opening the copied URL: %v\n%s", err, out)
	}
	p.waitFor("routes after sign-in", regexp.MustCompile(`4 of 4 routes`))
	p.keys("q")
	p.waitFor("exit", regexp.MustCompile(`EXIT:0`))
}

// checkNarrow checks a narrow screen: the header, the title on the first
// line and the help on the last (nothing wrapped by the terminal pushed
// them off), the eight rows right under the header each on one line
// starting with the name's head and ending with the destination's port,
// and the tcp routes' whole host:port shown.
func checkNarrow(screen string, header *regexp.Regexp) error {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	h := -1
	for i, l := range lines {
		if header.MatchString(l) {
			h = i
		}
	}
	switch {
	case h < 0:
		return fmt.Errorf("no header matching %s", header)
	case !strings.HasPrefix(lines[0], "pomerium-cli routes pick"):
		return fmt.Errorf("first line %q; want the title", lines[0])
	case !strings.HasPrefix(lines[len(lines)-1], "enter open"):
		return fmt.Errorf("last line %q; want the help", lines[len(lines)-1])
	case len(lines) < h+9:
		return fmt.Errorf("fewer than 8 rows under the header")
	}
	row := regexp.MustCompile(`^[ >] \S.*:\d+$`)
	for _, l := range lines[h+1 : h+9] {
		if !row.MatchString(l) {
			return fmt.Errorf("row %q is not one line ending with a port", l)
		}
	}
	rows := strings.Join(lines[h+1:h+9], "\n")
	for name, dest := range map[string]string{
		"echo":         "echo.internal:7000",
		"admin-echo":   "admin-echo.internal:7001",
		"db-primary":   "db-primary.localhost:5432",
		"mydb-replica": "mydb-replica.localhost:5432",
	} {
		// names may be cut at 40 columns, destinations not
		re := regexp.MustCompile(`(?m)^[ >] ` + regexp.QuoteMeta(name[:4]) + `.*[ …/]` + regexp.QuoteMeta(dest) + `$`)
		if !re.MatchString(rows) {
			return fmt.Errorf("row %s does not show %s", name, dest)
		}
	}
	if !regexp.MustCompile(`(?m)^  本番.*:15432$`).MatchString(rows) {
		return fmt.Errorf("the wide-rune row lost its port")
	}
	return nil
}

// waitBuffer polls tmux's newest paste buffer until it holds something.
func waitBuffer(t *testing.T, p *tmuxPane) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		out, err := exec.Command(p.tmux, "-L", p.sock, "show-buffer").Output()
		if err == nil && len(out) > 0 {
			return string(out)
		}
		<-time.After(100 * time.Millisecond) // poll interval
	}
	t.Fatalf("no tmux paste buffer within 90s (OSC 52 not received)")
	return ""
}
