package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

const waitLong = 90 * time.Second // generous: the machine may be loaded

var testRoutes = []portalclient.Route{
	{ID: "1", Name: "echo", Type: "tcp", From: "tcp+https://proxy.test/echo.internal:7000", Description: "echo service", ConnectCommand: "pomerium-cli tcp tcp+https://proxy.test/echo.internal:7000"},
	{ID: "2", Name: "admin-echo", Type: "tcp", From: "tcp+https://proxy.test/admin.internal:7000", Description: "admins only"},
	{ID: "3", Name: "grafana", Type: "http", From: "https://grafana.proxy.test", Description: "dashboards"},
	{ID: "4", Name: "postgres", Type: "tcp", From: "tcp+https://db.proxy.test:5432", Description: "main database"},
	{ID: "5", Name: "wiki", Type: "http", From: "https://wiki.proxy.test", Description: "docs"},
	{ID: "6", Name: "dns", Type: "udp", From: "udp+https://dns.proxy.test:53", Description: "resolver"},
	{ID: "7", Name: "verify", Type: "http", From: "https://verify.proxy.test", Description: "identity check"},
}

type fakeFetcher struct {
	routes []portalclient.Route
	err    error
	signIn string        // when set, notify is called with it first
	gate   chan struct{} // when set, Routes waits for it after notify
}

func (f *fakeFetcher) Routes(ctx context.Context, notify func(string)) ([]portalclient.Route, error) {
	if f.signIn != "" {
		notify(f.signIn)
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.routes, f.err
}

type fakeSaved struct{ list []connections.Connection }

func (s fakeSaved) List() ([]connections.Connection, error) { return s.list, nil }

type fakeTunnel struct {
	addr    net.Addr
	mu      sync.Mutex
	stats   tunnel.Stats
	done    chan struct{}
	stopped bool
}

func (t *fakeTunnel) Addr() net.Addr { return t.addr }
func (t *fakeTunnel) Stats() tunnel.Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}
func (t *fakeTunnel) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		close(t.done)
	}
	return nil
}
func (t *fakeTunnel) Done() <-chan struct{} { return t.done }
func (t *fakeTunnel) Err() error            { return nil }

type fakeStarter struct {
	mu      sync.Mutex
	err     error
	tun     *fakeTunnel
	addr    string
	item    Item
	onEvent func(tunnel.Event)
	started chan struct{}
}

func (s *fakeStarter) Start(ctx context.Context, it Item, addr string, onEvent func(tunnel.Event)) (Tunnel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(s.started)
	s.addr, s.item, s.onEvent = addr, it, onEvent
	if s.err != nil {
		return nil, s.err
	}
	s.tun = &fakeTunnel{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 45678}, done: make(chan struct{})}
	return s.tun, nil
}

func newTest(t *testing.T, opts Options) (*teatest.TestModel, *Model) {
	t.Helper()
	if opts.Routes == nil {
		opts.Routes = &fakeFetcher{routes: testRoutes}
	}
	m := New(opts)
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm, m
}

// waitScreen waits until the output (accumulated since the last wait)
// contains every want.
func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	var last string
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		last = string(b)
		for _, w := range want {
			if !strings.Contains(last, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(waitLong), teatest.WithCheckInterval(20*time.Millisecond))
}

func final(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(waitLong)).(*Model)
}

func names(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name      string
		typed     string
		wantFirst string
		wantCount string
	}{
		{"exact name first", "echo", "echo", "2 of 7 routes"},
		{"name prefix before other fields", "d", "dns", "6 of 7 routes"},
		{"fuzzy", "grf", "grafana", "1 of 7 routes"},
		{"by description", "dashb", "grafana", "1 of 7 routes"},
		{"none", "zzzz", "", "0 of 7 routes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, _ := newTest(t, Options{})
			waitScreen(t, tm, "7 of 7 routes")
			tm.Type(tt.typed)
			waitScreen(t, tm, tt.wantCount)
			m := final(t, tm)
			if got := len(m.visible); got == 0 && tt.wantFirst != "" {
				t.Fatalf("visible: got none; want %s first", tt.wantFirst)
			}
			if tt.wantFirst != "" && m.visible[0].Name != tt.wantFirst {
				t.Errorf("first match: got %q (%v); want %q", m.visible[0].Name, names(m.visible), tt.wantFirst)
			}
		})
	}
}

func TestSelectionAndTabs(t *testing.T) {
	saved := fakeSaved{list: []connections.Connection{{ID: "a", Name: "my db", Destination: "db.example.com:5432", ListenAddr: "127.0.0.1:15432"}}}
	st := &fakeStarter{started: make(chan struct{})}
	tm, _ := newTest(t, Options{Saved: saved, Tunnels: st})
	waitScreen(t, tm, "7 of 7 routes")
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	waitScreen(t, tm, "1 of 1 saved connections", "my db")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "listen on:", "127.0.0.1:15432")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	select {
	case <-st.started:
	case <-time.After(waitLong):
		t.Fatal("tunnel not started")
	}
	if st.item.Saved == nil || st.item.Name != "my db" {
		t.Errorf("started item: got %+v; want the saved connection my db", st.item)
	}
	if st.addr != "127.0.0.1:15432" {
		t.Errorf("listen address: got %q; want the saved 127.0.0.1:15432", st.addr)
	}
	final(t, tm)
}

func TestTunnelPanel(t *testing.T) {
	st := &fakeStarter{started: make(chan struct{})}
	tm, _ := newTest(t, Options{Tunnels: st, Listen: "127.0.0.1:0"})
	waitScreen(t, tm, "7 of 7 routes")
	tm.Type("echo")
	waitScreen(t, tm, "2 of 7 routes")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "listen on:", "127.0.0.1:0")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "Local address:  127.0.0.1:45678", "listening")
	if st.item.Name != "echo" {
		t.Errorf("tunnel for: got %q; want echo", st.item.Name)
	}
	st.tun.mu.Lock()
	st.tun.stats = tunnel.Stats{Active: 1, Total: 3, BytesSent: 2048, BytesReceived: 5}
	st.tun.mu.Unlock()
	st.onEvent(tunnel.Event{Kind: tunnel.EventConnected, ConnID: 3, Addr: "127.0.0.1:5555"})
	waitScreen(t, tm, "1 active, 3 total", "2.0 KiB sent, 5 B received", "connected #3 127.0.0.1:5555")
	st.onEvent(tunnel.Event{Kind: tunnel.EventError, ConnID: 4, Err: errors.New("proxy refused: 403 Forbidden")})
	waitScreen(t, tm, "error: echo: proxy refused: 403 Forbidden")
	tm.Type("q")
	waitScreen(t, tm, "stopped echo", "of 7 routes")
	m := final(t, tm)
	if m.screen != screenList {
		t.Errorf("screen after q: got %d; want the list", m.screen)
	}
	select {
	case <-st.tun.done:
	case <-time.After(waitLong):
		t.Error("tunnel not stopped after q")
	}
}

func TestErrorsInStatusLine(t *testing.T) {
	t.Run("routes fail", func(t *testing.T) {
		tm, _ := newTest(t, Options{Routes: &fakeFetcher{err: errors.New("listing routes: 500 Internal Server Error")}})
		waitScreen(t, tm, "error: routes: listing routes: 500 Internal Server Error")
		final(t, tm)
	})
	t.Run("routes fail with the CLI's hint", func(t *testing.T) {
		err := fmt.Errorf("listing routes: %w", x509.UnknownAuthorityError{})
		tm, _ := newTest(t, Options{Routes: &fakeFetcher{err: err}})
		waitScreen(t, tm, "pass --alternate-ca-path FILE")
		final(t, tm)
	})
	t.Run("tunnel fails to start, picker stays usable", func(t *testing.T) {
		st := &fakeStarter{started: make(chan struct{}), err: errors.New("listening on 127.0.0.1:1: permission denied")}
		tm, _ := newTest(t, Options{Tunnels: st})
		waitScreen(t, tm, "7 of 7 routes")
		tm.Type("postgres")
		tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		waitScreen(t, tm, "listen on:")
		tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		waitScreen(t, tm, "error: postgres: listening on 127.0.0.1:1: permission denied")
		tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
		waitScreen(t, tm, "7 of 7 routes")
		final(t, tm)
	})
	t.Run("udp routes open like tcp ones", func(t *testing.T) {
		st := &fakeStarter{started: make(chan struct{}), err: errors.New("udp test stop")}
		tm, _ := newTest(t, Options{Tunnels: st})
		waitScreen(t, tm, "7 of 7 routes")
		tm.Type("dns")
		tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		waitScreen(t, tm, "listen on:")
		tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		waitScreen(t, tm, "error: dns: udp test stop")
		st.mu.Lock()
		typ := st.item.Type
		st.mu.Unlock()
		if typ != "udp" {
			t.Errorf("started item type %q; want udp", typ)
		}
		final(t, tm)
	})
}

func TestOpenHTTPRoute(t *testing.T) {
	opened := make(chan string, 1)
	open := func(_ context.Context, u string) error { opened <- u; return nil }
	tm, _ := newTest(t, Options{Open: open})
	waitScreen(t, tm, "7 of 7 routes")
	tm.Type("grafana")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	select {
	case u := <-opened:
		if u != "https://grafana.proxy.test" {
			t.Errorf("opened: got %q; want https://grafana.proxy.test", u)
		}
	case <-time.After(waitLong):
		t.Fatal("browser not opened")
	}
	waitScreen(t, tm, "opened https://grafana.proxy.test in the browser")
	final(t, tm)
}

func TestSignInURLShown(t *testing.T) {
	gate := make(chan struct{})
	f := &fakeFetcher{routes: testRoutes, signIn: "https://proxy.test/.pomerium/sign_in?x=1", gate: gate}
	m := New(Options{Routes: f})
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm, "Sign in to continue: https://proxy.test/.pomerium/sign_in?x=1")
	// The flow's own stderr lines arrive through NoticeWriter.
	w := m.NoticeWriter()
	_, _ = w.Write([]byte("Could not open a browser (no display): open the URL above yourself.\n"))
	waitScreen(t, tm, "Could not open a browser (no display)")
	close(gate)
	waitScreen(t, tm, "7 of 7 routes")
	fm := final(t, tm)
	if fm.signIn != "" {
		t.Errorf("sign-in URL after routes arrived: got %q; want cleared", fm.signIn)
	}
}

// TestSignInNoticesAfterTheFact: the flow's lines reach the model apart
// from the results they precede; a URL delivered after its sign-in ended
// must not bring the banner back, and the lead-in line is not kept as a
// status that would outlive the sign-in.
func TestSignInNoticesAfterTheFact(t *testing.T) {
	const u = "https://proxy.test/.pomerium/sign_in?pomerium_redirect_uri=http%3A%2F%2F127.0.0.1%3A1"
	m := New(Options{Routes: &fakeFetcher{routes: testRoutes}})
	t.Cleanup(m.Close)
	w := m.NoticeWriter()
	_, _ = w.Write([]byte("Your browser has been opened to visit:\n\n  " + u + "\n\n"))
	m.Update(routesMsg{items: []Item{RouteItem(testRoutes[0])}, notices: m.noticesSent()})
	for range 4 {
		m.Update(noticeMsg{line: <-m.opts.Notices})
	}
	if m.signIn != "" || m.status != "" {
		t.Errorf("after the routes arrived and then the flow's lines: banner %q, status %q; want both empty", m.signIn, m.status)
	}

	// A sign-in that starts later is shown again.
	_, _ = w.Write([]byte("  " + u + "2\n"))
	m.Update(noticeMsg{line: <-m.opts.Notices})
	if m.signIn != u+"2" {
		t.Errorf("a new sign-in URL: banner %q; want %q", m.signIn, u+"2")
	}
}

func TestResizeAndHelp(t *testing.T) {
	tm, _ := newTest(t, Options{})
	waitScreen(t, tm, "7 of 7 routes", "? help")
	tm.Type("?")
	waitScreen(t, tm, "ctrl+r", "clear filter")
	tm.Send(tea.WindowSizeMsg{Width: 40, Height: 10})
	m := final(t, tm)
	if m.width != 40 || m.height != 10 {
		t.Errorf("size: got %dx%d; want 40x10", m.width, m.height)
	}
	if !m.help.ShowAll {
		t.Error("full help: got hidden; want shown after ?")
	}
	view := m.View()
	lines := strings.Split(view, "\n")
	if len(lines) > 10 {
		t.Errorf("lines at 40x10: got %d; want at most 10", len(lines))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line wider than 40: %q (%d)", l, w)
		}
	}
}

func TestCopy(t *testing.T) {
	clip := &testutil.SyncBuffer{}
	tm, _ := newTest(t, Options{Clipboard: clip})
	waitScreen(t, tm, "7 of 7 routes")
	tm.Type("c") // copies the first row (echo)
	want := "pomerium-cli tcp tcp+https://proxy.test/echo.internal:7000"
	waitScreen(t, tm, "copied: "+want)
	m := final(t, tm)
	if got := m.Copied(); len(got) != 1 || got[0] != want {
		t.Errorf("copied: got %q; want [%q]", got, want)
	}
	if !strings.Contains(clip.String(), "\x1b]52;c;") {
		t.Errorf("clipboard: got %q; want an OSC 52 sequence", clip.String())
	}
}
