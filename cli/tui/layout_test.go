package tui

import (
	"encoding/base64"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// layoutRoutes are testRoutes plus rows that stress the layout: a long
// from, wide runes, a hostile name.
func layoutRoutes() []Item {
	var items []Item
	for _, r := range testRoutes {
		items = append(items, RouteItem(r))
	}
	for _, r := range []portalclient.Route{
		{Name: "データベース本番東京リージョン", Type: "tcp", From: "tcp+https://proxy.very-long-subdomain.example.com:8443/データベース.internal:5432", Description: "本番のデータベース"},
		{Name: "long", Type: "tcp", From: "tcp+https://proxy.test/" + strings.Repeat("segment/", 20) + "long.internal:6379", Description: strings.Repeat("words ", 40)},
		{Name: "evil\x1b]52;c;ZXZpbA==\x07", Type: "tcp", From: "tcp+https://proxy.test/evil\x1b[2J.internal:1", Description: "\u202egnp"},
	} {
		items = append(items, RouteItem(r))
	}
	return items
}

func sized(t *testing.T, opts Options, w, h int) *Model {
	t.Helper()
	m := New(opts)
	t.Cleanup(m.Close)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(routesMsg{items: layoutRoutes()})
	return m
}

// rowOf is the screen line of the row named name ("" when not shown).
func rowOf(view, name string) string {
	for _, l := range strings.Split(ansi.Strip(view), "\n") {
		if l == "  "+name || l == "> "+name || strings.HasPrefix(l, "> "+name+" ") || strings.HasPrefix(l, "  "+name+" ") {
			return l
		}
	}
	return ""
}

func TestColumnsAtWidths(t *testing.T) {
	tests := []struct {
		w       int
		headers string // the header line, spaces squeezed
		echo    *regexp.Regexp
	}{
		{200, "NAME TYPE FROM DESCRIPTION", regexp.MustCompile(`^  echo +tcp +tcp\+https://proxy\.test/echo\.internal:7000 +echo service$`)},
		{120, "NAME TYPE FROM DESCRIPTION", regexp.MustCompile(`^  echo +tcp +tcp\+https://proxy\.test/echo\.internal:7000 +echo service$`)},
		{80, "NAME TYPE FROM DESCRIPTION", regexp.MustCompile(`^  echo {16}tcp  tcp\+https://pro…/echo\.internal:7000 echo service$`)},
		{60, "NAME TYPE FROM DESCRIPTION", regexp.MustCompile(`^  echo {11}tcp  tcp\+ht…/echo\.internal:7000 echo servi…$`)},
		{40, "NAME FROM", regexp.MustCompile(`^  echo {9}tcp\+h…/echo\.internal:7000$`)},
		{30, "NAME FROM", regexp.MustCompile(`^  echo {5}…echo\.internal:7000$`)},
		{20, "NAME", regexp.MustCompile(`^  echo$`)},
	}
	for _, tt := range tests {
		m := sized(t, Options{}, tt.w, 30)
		m.cursor = len(m.visible) - 1 // rows are drawn unselected but the last
		view := m.View()
		lines := strings.Split(view, "\n")
		if len(lines) > 30 {
			t.Errorf("width %d: %d lines; want at most 30", tt.w, len(lines))
		}
		for _, l := range lines {
			if lw := ansi.StringWidth(l); lw > tt.w {
				t.Errorf("width %d: line %q is %d columns", tt.w, ansi.Strip(l), lw)
			}
		}
		if err := termtest.Check(view, true); err != nil {
			t.Errorf("width %d: %v", tt.w, err)
		}
		var hdr string
		for _, l := range lines {
			if s := strings.TrimSpace(ansi.Strip(l)); strings.HasPrefix(s, "NAME") {
				hdr = strings.Join(strings.Fields(s), " ")
			}
		}
		if hdr != tt.headers {
			t.Errorf("width %d: headers %q; want %q\n%s", tt.w, hdr, tt.headers, ansi.Strip(view))
		}
		if r := rowOf(view, "echo"); !tt.echo.MatchString(r) {
			t.Errorf("width %d: echo row %q; want it to match %s", tt.w, r, tt.echo)
		}
		// The long route keeps its destination wherever FROM is shown.
		if strings.Contains(hdr, "FROM") && !strings.Contains(rowOf(view, "long"), "long.internal:6379") {
			t.Errorf("width %d: long row %q lost its destination", tt.w, rowOf(view, "long"))
		}
	}
}

func TestSavedColumns(t *testing.T) {
	saved := fakeSaved{list: []connections.Connection{
		{ID: "a", Name: "my db", Destination: "tcp+https://proxy.example.com/db.internal:5432", ListenAddr: "127.0.0.1:15432", Tags: []string{"prod", "eu"}},
		{ID: "b", Name: "cache", Destination: "tcp+https://proxy.example.com/redis.internal:6379", Protocol: "udp"},
	}}
	for _, tt := range []struct {
		w                    int
		headers, mydb, cache string
	}{
		{100, "NAME TYPE LISTEN ADDRESS DESTINATION TAGS",
			"  my db tcp  127.0.0.1:15432 tcp+https://proxy.example.com/db.internal:5432    prod, eu",
			"> cache udp  auto            tcp+https://proxy.example.com/redis.internal:6379"},
		// narrower: TYPE and TAGS go first, the destination stays
		{50, "NAME LISTEN ADDRESS DESTINATION", "  my db 127.0.0.1:15432 tcp+http…/db.internal:5432", "> cache auto            tcp+h…/redis.internal:6379"},
		{30, "NAME DESTINATION", "  my db tcp+…/db.internal:5432", "> cache t…/redis.internal:6379"},
	} {
		m := sized(t, Options{Saved: saved}, tt.w, 20)
		m.Update(savedMsg{items: []Item{SavedItem(saved.list[0]), SavedItem(saved.list[1])}})
		m.Update(tea.KeyMsg{Type: tea.KeyTab})
		m.cursor = 1
		view := ansi.Strip(m.View())
		if !strings.Contains(view, tt.mydb+"\n") || !strings.Contains(view, tt.cache+"\n") {
			t.Errorf("width %d: want rows\n%q\n%q\nin\n%s", tt.w, tt.mydb, tt.cache, view)
		}
		var hdr string
		for _, l := range strings.Split(view, "\n") {
			if s := strings.TrimSpace(l); strings.HasPrefix(s, "NAME") {
				hdr = strings.Join(strings.Fields(s), " ")
			}
		}
		if hdr != tt.headers {
			t.Errorf("width %d: saved headers %q; want %q", tt.w, hdr, tt.headers)
		}
	}
}

func TestHighlightInView(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	m := sized(t, Options{Renderer: r}, 100, 30)
	for _, k := range "gra" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{k}})
	}
	var line string
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(ansi.Strip(l), "grafana ") {
			line = l
		}
	}
	if got := underlined(line); got != "gra" {
		t.Errorf("grafana row %q: underlined %q; want gra", line, got)
	}
	// A description match highlights there, not in the name.
	m.filter.SetValue("dashb")
	m.refilter()
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(ansi.Strip(l), "grafana ") {
			line = l
		}
	}
	if got := underlined(line); got != "dashb" {
		t.Errorf("grafana row %q: underlined %q; want dashb", line, got)
	}
	// A match past the column's width: the text is cut before it too.
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 30})
	m.routes[0].Description = "one two three four fifth word here"
	m.filter.SetValue("fifth")
	m.refilter()
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.HasPrefix(ansi.Strip(l), "> ") {
			line = l
		}
	}
	if got := underlined(line); got != "fifth" || !strings.Contains(ansi.Strip(line), "…") {
		t.Errorf("row %q: underlined %q; want fifth, shown after an ellipsis", ansi.Strip(line), got)
	}
}

func TestLongMessages(t *testing.T) {
	clip := &testutil.SyncBuffer{}
	m := sized(t, Options{Clipboard: clip}, 40, 20)
	url := "https://proxy.test/.pomerium/sign_in?pomerium_redirect_uri=http%3A%2F%2F127.0.0.1%3A45678%2Fcallback&state=" + strings.Repeat("abcdef0123", 12)
	m.notice("Please sign in: " + url)
	long := "tunnel: " + strings.Repeat("dial tcp 10.0.0.1:5432: connect: connection refused; ", 6) + "END\x1b[2J"
	m.setError(long)
	view := m.View()
	for _, l := range strings.Split(view, "\n") {
		if ansi.StringWidth(l) > 40 {
			t.Errorf("line wider than 40: %q", ansi.Strip(l))
		}
	}
	if err := termtest.Check(view, true); err != nil {
		t.Error(err)
	}
	plain := ansi.Strip(view)
	if !strings.Contains(plain, "Sign in to continue:") || !strings.Contains(plain, "m shows it all") {
		t.Errorf("bottom lines: want the sign-in banner and a pointer to m:\n%s", plain)
	}
	if !strings.Contains(plain, "error: tunnel: dial tcp") {
		t.Errorf("bottom lines: want the error wrapped:\n%s", plain)
	}

	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("m")})
	if m.screen != screenMessage {
		t.Fatalf("after m: screen %d; want the message view", m.screen)
	}
	// The whole text is in the view, wrapped to 40 columns: the URL's end
	// and the error's end, escaped.
	all := strings.Join(wrapText(m.messageText(), 40), "")
	if !strings.Contains(all, strings.Repeat("abcdef0123", 12)) || !strings.Contains(all, `END\x1b[2J`) {
		t.Errorf("message text lacks the ends of the URL or error:\n%s", all)
	}
	// Scrolling reaches the error's end.
	for range 40 {
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, `END\x1b[2J`) {
		t.Errorf("scrolled to the bottom, want the error's end:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("c")})
	seq := regexp.MustCompile("\x1b]52;c;([A-Za-z0-9+/=]+)\x07").FindStringSubmatch(clip.String())
	if seq == nil {
		t.Fatalf("clipboard: %q; want an OSC 52 sequence", clip.String())
	}
	got, _ := base64.StdEncoding.DecodeString(seq[1])
	if string(got) != url {
		t.Errorf("copied %q; want the whole sign-in URL %q", got, url)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "copied "+plural(len(url), "character")) {
		t.Errorf("after c: want a note of the copy:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.screen != screenList {
		t.Errorf("after esc: screen %d; want the list", m.screen)
	}

	// Without a sign-in, c copies the error, escaped and on one line.
	m.signIn = ""
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("m")})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("c")})
	all52 := regexp.MustCompile("\x1b]52;c;([A-Za-z0-9+/=]+)\x07").FindAllStringSubmatch(clip.String(), -1)
	if len(all52) != 2 {
		t.Fatalf("clipboard: %q; want a second OSC 52 sequence", clip.String())
	}
	seq = all52[1]
	if seq == nil {
		t.Fatalf("clipboard: %q; want an OSC 52 sequence", clip.String())
	}
	got, _ = base64.StdEncoding.DecodeString(seq[1])
	if string(got) != termtext.Escape(long) {
		t.Errorf("copied %q; want the escaped error %q", got, termtext.Escape(long))
	}
}

func TestCopyEscapesCommand(t *testing.T) {
	clip := &testutil.SyncBuffer{}
	m := New(Options{Clipboard: clip})
	t.Cleanup(m.Close)
	m.Update(routesMsg{items: []Item{RouteItem(portalclient.Route{Name: "x", Type: "tcp", From: "tcp+https://p/x:1",
		ConnectCommand: "pomerium-cli tcp x\nrm -rf ~\n"})}})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("c")})
	seq := regexp.MustCompile("\x1b]52;c;([A-Za-z0-9+/=]+)\x07").FindStringSubmatch(clip.String())
	if seq == nil {
		t.Fatalf("clipboard: %q; want an OSC 52 sequence", clip.String())
	}
	got, _ := base64.StdEncoding.DecodeString(seq[1])
	if want := `pomerium-cli tcp x\nrm -rf ~\n`; string(got) != want {
		t.Errorf("copied %q; want %q (a pasted newline would run the rest)", got, want)
	}
}

// The STATUS column appears once a tunnel opened here has ended, and says
// how: stopped (with its connection count) or failed.
func TestStatusColumn(t *testing.T) {
	saved := []connections.Connection{
		{ID: "a", Name: "my db", Destination: "tcp+https://proxy.example.com/db.internal:5432"},
		{ID: "b", Name: "cache", Destination: "tcp+https://proxy.example.com/redis.internal:6379"},
	}
	m := sized(t, Options{Saved: fakeSaved{list: saved}}, 120, 20)
	m.Update(savedMsg{items: []Item{SavedItem(saved[0]), SavedItem(saved[1])}})
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	if v := ansi.Strip(m.View()); strings.Contains(v, "STATUS") {
		t.Errorf("STATUS shown before any tunnel ran:\n%s", v)
	}

	m.startTunnel(m.saved[0], "127.0.0.1:0")
	tun := &fakeTunnel{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, done: make(chan struct{}), stats: tunnel.Stats{Total: 3}}
	m.Update(tunnelStarted{gen: m.gen, tun: tun})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	m.startTunnel(m.saved[1], "127.0.0.1:0")
	m.Update(tunnelStarted{gen: m.gen, err: errors.New("address in use")})

	view := ansi.Strip(m.View())
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^  NAME +TYPE +LISTEN ADDRESS +DESTINATION +TAGS +STATUS$`),
		regexp.MustCompile(`(?m)^[ >] my db .*db\.internal:5432 +stopped, 3 connections$`),
		regexp.MustCompile(`(?m)^[ >] cache .*redis\.internal:6379 +failed$`),
	} {
		if !want.MatchString(view) {
			t.Errorf("want %s in\n%s", want, view)
		}
	}
	// A reload keeps them.
	m.Update(savedMsg{items: []Item{SavedItem(saved[0]), SavedItem(saved[1])}})
	if v := ansi.Strip(m.View()); !strings.Contains(v, "stopped, 3 connections") {
		t.Errorf("after a reload the status is gone:\n%s", v)
	}
}
