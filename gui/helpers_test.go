package gui

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

// uiQueue stands in for fyne.Do: updates from other goroutines wait in
// the queue until the test's goroutine runs them, so widgets are only
// ever touched from one goroutine.
type uiQueue struct {
	mu  sync.Mutex
	fns []func()
}

func (q *uiQueue) Do(f func()) {
	q.mu.Lock()
	q.fns = append(q.fns, f)
	q.mu.Unlock()
}

func (q *uiQueue) drain() {
	for {
		q.mu.Lock()
		fns := q.fns
		q.fns = nil
		q.mu.Unlock()
		if len(fns) == 0 {
			return
		}
		for _, f := range fns {
			f()
		}
	}
}

// trayTestApp is the test app plus a system tray that records its menu.
type trayTestApp struct {
	fyne.App
	mu    sync.Mutex
	menu  *fyne.Menu
	notes []*fyne.Notification
	quits int
}

// Quit records the call; the test app's own Quit does nothing.
func (a *trayTestApp) Quit() {
	a.mu.Lock()
	a.quits++
	a.mu.Unlock()
}

func (a *trayTestApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	a.notes = append(a.notes, n)
	a.mu.Unlock()
}

func (a *trayTestApp) lastNotification() *fyne.Notification {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.notes) == 0 {
		return nil
	}
	return a.notes[len(a.notes)-1]
}

func (a *trayTestApp) SetSystemTrayMenu(m *fyne.Menu) {
	a.mu.Lock()
	a.menu = m
	a.mu.Unlock()
}

// fixture is a window on a temp store, driven on the test's goroutine.
type fixture struct {
	t     *testing.T
	app   *trayTestApp
	w     *MainWindow
	ctrl  *Controller
	q     *uiQueue
	files *fakeFiles
}

type fixtureOpt func(*Controller, *Options)

func newFixture(t *testing.T, seed []connections.Connection, opts ...fixtureOpt) *fixture {
	t.Helper()
	dir := t.TempDir()
	store := connections.NewStore(filepath.Join(dir, "connections.json"))
	for _, c := range seed {
		if _, err := store.Put(c); err != nil {
			t.Fatalf("seeding %q: %v", c.Name, err)
		}
	}
	a := &trayTestApp{App: test.NewTempApp(t)}
	q := &uiQueue{}
	files := &fakeFiles{}
	ctrl := &Controller{Store: store, Tokens: authflow.NewCache(authflow.CacheOptions{NoKeyring: true, Dir: filepath.Join(dir, "cache"), Stderr: io.Discard})}
	o := Options{Do: q.Do, Files: files, ServersDir: filepath.Join(dir, "pomerium-cli"), CLICacheDir: filepath.Join(dir, "cli-cache"), TrayHost: func() bool { return true }}
	for _, f := range opts {
		f(ctrl, &o)
	}
	w := NewMainWindow(a, ctrl, o)
	w.Window().Resize(fyne.NewSize(1100, 700))
	w.Window().Show()
	t.Cleanup(func() {
		ctrl.StopAll()
		q.drain()
		w.Window().Close()
	})
	return &fixture{t: t, app: a, w: w, ctrl: ctrl, q: q, files: files}
}

// eventually drains the UI queue and polls cond until it holds.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		f.q.drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling interval against the deadline
	}
}

// notification polls until the latest notification's title starts with
// prefix (they are sent off the caller's goroutine) and returns the
// latest one either way, for the caller to check.
func (f *fixture) notification(prefix string) *fyne.Notification {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		f.q.drain()
		n := f.app.lastNotification()
		if n != nil && strings.HasPrefix(n.Title, prefix) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond) // polling interval against the deadline
	}
}

// refuseSave checks that form shows a message containing want next to
// field and nowhere else, with Save disabled, then presses Save anyway
// (the caller checks that nothing was stored).
func refuseSave(t *testing.T, form *connForm, field, want string) {
	t.Helper()
	msg := form.errs[field]
	if !msg.Visible() || !strings.Contains(msg.Text, want) {
		t.Errorf("message next to %s: got %q (visible %v); want one containing %q", field, msg.Text, msg.Visible(), want)
	}
	for other, l := range form.errs {
		if other != field && l.Visible() {
			t.Errorf("message next to %s: got %q; want none", other, l.Text)
		}
	}
	if !form.save.Disabled() {
		t.Errorf("Save: got enabled; want disabled")
	}
	form.submit() // a Save that slipped through is refused
}

// row returns the row of the connection named name, or nil.
func (f *fixture) row(name string) *connRow {
	for _, c := range f.w.shown {
		if c.Name == name {
			return f.w.rows[c.ID]
		}
	}
	return nil
}

// switchOn taps on the row of the connection named name and waits until
// it shows its listener; it returns the row and the local address.
func (f *fixture) switchOn(name string) (*connRow, string) {
	f.t.Helper()
	r, id := f.row(name), f.byName(name).ID
	test.Tap(r.toggle)
	var addr string
	f.eventually(name+" listening", func() bool {
		addr = f.ctrl.State(id).Addr
		return rowListening(r, addr)
	})
	return r, addr
}

// dialEcho dials addr (the local port of the connection named name),
// sends msg and reads the same bytes back from the echo upstream; the
// connection stays open (closed when the test ends) for more checks.
func (f *fixture) dialEcho(name, addr string, msg []byte) net.Conn {
	f.t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	if _, err := conn.Write(msg); err != nil {
		f.t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		f.t.Fatalf("reading the echo through %s: %v (status %q, log %v)", name, err, f.row(name).status.Text, f.ctrl.Log(f.byName(name).ID))
	}
	if !bytes.Equal(got, msg) {
		f.t.Fatalf("echo through %s: got %q; want %q", name, got, msg)
	}
	return conn
}

func (f *fixture) byName(name string) connections.Connection {
	f.t.Helper()
	for _, c := range f.ctrl.Connections() {
		if c.Name == name {
			return c
		}
	}
	f.t.Fatalf("no connection named %q in %v", name, names(f.ctrl.Connections()))
	return connections.Connection{}
}

func (f *fixture) shownNames() []string {
	out := []string{}
	for _, c := range f.w.shown {
		out = append(out, c.Name)
	}
	return out
}

// selectGroup taps the sidebar group whose label starts with prefix.
func (f *fixture) selectGroup(label string) {
	f.t.Helper()
	for i, g := range f.w.groups {
		if g.Label() == label {
			f.w.groupList.Select(i)
			return
		}
	}
	var have []string
	for _, g := range f.w.groups {
		have = append(have, g.Label())
	}
	f.t.Fatalf("no group %q; have %q", label, have)
}

// fakeFiles answers file dialogs with preset paths.
type fakeFiles struct {
	open, save string
	saved      []string // suggested names asked for
}

func (ff *fakeFiles) Open(_ fyne.Window, done func(string)) { done(ff.open) }
func (ff *fakeFiles) Save(_ fyne.Window, suggested string, done func(string)) {
	ff.saved = append(ff.saved, suggested)
	done(ff.save)
}

// findButton walks the top overlay (an open dialog) for a button.
func findButton(t *testing.T, c fyne.Canvas, text string) *widget.Button {
	t.Helper()
	top := c.Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open; want one with a %q button", text)
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("the open dialog has no %q button", text)
	return nil
}

// fakeListener is a Listener whose events the test sends.
type fakeListener struct {
	addr net.Addr
	cfg  tunnel.Config
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error
}

func (l *fakeListener) Addr() net.Addr        { return l.addr }
func (l *fakeListener) Done() <-chan struct{} { return l.done }
func (l *fakeListener) Stop() error           { l.once.Do(func() { close(l.done) }); return nil }
func (l *fakeListener) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// fail ends the listener with err, as a broken accept would.
func (l *fakeListener) fail(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	l.Stop()
}

func (l *fakeListener) emit(ev tunnel.Event) {
	ev.Time = time.Now()
	l.cfg.OnEvent(ev)
}

// fakeListens records every fake listener started, by listen address.
type fakeListens struct {
	mu   sync.Mutex
	byID map[string]*fakeListener
	err  error // when set, Listen fails
}

func (fl *fakeListens) opt() fixtureOpt {
	return func(c *Controller, _ *Options) {
		c.Listen = func(_ context.Context, addr string, cfg tunnel.Config) (Listener, error) {
			if fl.err != nil {
				return nil, fl.err
			}
			port := 40000 + len(fl.all())
			l := &fakeListener{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, cfg: cfg, done: make(chan struct{})}
			fl.mu.Lock()
			if fl.byID == nil {
				fl.byID = map[string]*fakeListener{}
			}
			fl.byID[cfg.Destination.Authority] = l
			fl.mu.Unlock()
			return l, nil
		}
	}
}

func (fl *fakeListens) all() map[string]*fakeListener {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	out := map[string]*fakeListener{}
	for k, v := range fl.byID {
		out[k] = v
	}
	return out
}

func (fl *fakeListens) get(authority string) *fakeListener {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.byID[authority]
}

type widgetEntry = widget.Entry

// rowListening reports whether row r shows a connection listening on
// addr (its counters may follow the status).
func rowListening(r *connRow, addr string) bool {
	return addr != "" && r.listen.Text == addr && (r.status.Text == "listening" || strings.HasPrefix(r.status.Text, "listening · "))
}

// sessionBus starts a private D-Bus session bus that ends with the test
// and returns its address, for the app processes a test starts. Without
// DBUS_SESSION_BUS_ADDRESS the app's D-Bus library autolaunches a bus
// (dbus-launch) that outlives the test: each run left a dbus-daemon
// behind, holding one of the user's 128 inotify instances, until other
// tests' file watches failed with "too many open files". A bus of its own
// also keeps the test apart from whatever session it runs in.
func sessionBus(t *testing.T) string {
	t.Helper()
	daemon := testutil.Require(t, "dbus-daemon")
	cmd := exec.Command(daemon, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out) // the daemon must never block on a full pipe
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return a
	case <-time.After(time.Minute):
		t.Fatal("dbus-daemon gave no address within 1m")
	}
	return ""
}
