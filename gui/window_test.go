package gui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/tunnel"
)

func sample() []connections.Connection {
	return []connections.Connection{
		{Name: "pg-prod", Destination: "tcp+https://proxy.example.com/pg.internal:5432", Tags: []string{"db", "prod"}},
		{Name: "pg-staging", Destination: "tcp+https://proxy.example.com/pg-staging.internal:5432", Tags: []string{"db"}},
		{Name: "ssh-bastion", Destination: "tcp+https://proxy.example.com/bastion.internal:22", Tags: []string{"prod"}},
		{Name: "rdp-desk", Destination: "tcp+https://proxy.example.com/desk.internal:3389"},
	}
}

func TestWindowTitle(t *testing.T) {
	f := newFixture(t, nil)
	if got := f.w.Window().Title(); !strings.Contains(got, "Porthole") {
		t.Errorf("title: got %q; want it to contain Porthole", got)
	}
	if !f.w.emptyBox.Visible() {
		t.Errorf("empty store: got no hint; want the 'No connections yet' hint")
	}
}

func TestAddConnection(t *testing.T) {
	f := newFixture(t, nil)
	test.Tap(f.w.addBtn)
	form := f.w.form
	if form == nil {
		t.Fatal("tapping Add opened no form")
	}
	if !form.save.Disabled() {
		t.Errorf("empty form: got Save enabled; want disabled")
	}
	test.Type(form.name, "pg")
	test.Type(form.dest, "tcp+https://proxy.example.com/pg.internal:5432")
	test.Type(form.listen, "127.0.0.1:15432")
	test.Type(form.tags, "prod, db")
	test.Tap(form.autostart)
	if form.save.Disabled() {
		t.Fatalf("valid form: got Save disabled; want enabled (errors: %v)", form.validate())
	}
	test.Tap(form.save)
	f.q.drain()
	if f.w.form != nil {
		t.Errorf("after Save: got the form still open; want it closed")
	}
	list, err := f.ctrl.Store.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("store: got %d connections; want 1", len(list))
	}
	c := list[0]
	want := connections.Connection{ID: c.ID, Name: "pg", Destination: "tcp+https://proxy.example.com/pg.internal:5432",
		ListenAddr: "127.0.0.1:15432", Tags: []string{"db", "prod"}, Autostart: true}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("saved: got %+v; want %+v", c, want)
	}
	r := f.row("pg")
	if r == nil {
		t.Fatalf("no row for pg; shown %q", f.shownNames())
	}
	if got := r.status.Text; got != "off" {
		t.Errorf("status: got %q; want off", got)
	}
	if got := f.w.detail.title.Text; got != "pg" {
		t.Errorf("detail: got %q selected; want pg", got)
	}
	if got := groupLabels(f.w); !slices.Equal(got, []string{"All (1)", "db (1)", "prod (1)"}) {
		t.Errorf("groups: got %q", got)
	}
}

func groupLabels(w *MainWindow) []string {
	var out []string
	for _, g := range w.groups {
		out = append(out, g.Label())
	}
	return out
}

func TestEditValidation(t *testing.T) {
	for _, tc := range []struct {
		name, field, value, wantField, wantMsg string
	}{
		{"destination not host:port", "dest", "nonsense", connections.FieldDestination, "host:port"},
		{"destination wrong scheme", "dest", "ftp://proxy.example.com/db:5432", connections.FieldDestination, "tcp+https"},
		{"destination path not host:port", "dest", "tcp+https://proxy.example.com/nope", connections.FieldDestination, "host:port"},
		{"listen address without port", "listen", "localhost", connections.FieldListenAddr, "host:port"},
		{"listen port not a number", "listen", "127.0.0.1:http", connections.FieldListenAddr, "number"},
		{"pomerium url not https", "pomerium", "ftp://x", connections.FieldPomeriumURL, "https://"},
		{"name empty", "name", "", connections.FieldName, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, sample())
			f.w.selectConn(f.byName("pg-prod").ID)
			test.Tap(f.w.detail.editBtn)
			form := f.w.form
			if form == nil {
				t.Fatal("Edit opened no form")
			}
			e := map[string]interface{ SetText(string) }{"dest": form.dest, "listen": form.listen, "pomerium": form.pomeriumURL, "name": form.name}[tc.field]
			e.SetText("")
			if tc.value != "" {
				test.Type(map[string]*entryT{"dest": form.dest, "listen": form.listen, "pomerium": form.pomeriumURL, "name": form.name}[tc.field], tc.value)
			}
			refuseSave(t, form, tc.wantField, tc.wantMsg)
			if got := f.byName("pg-prod"); got.Destination != "tcp+https://proxy.example.com/pg.internal:5432" || got.ListenAddr != "" {
				t.Errorf("store changed after a refused save: %+v", got)
			}
			if f.w.form == nil {
				t.Errorf("form closed after a refused save; want it open with the message")
			}
		})
	}
}

func TestEditSaves(t *testing.T) {
	f := newFixture(t, sample())
	id := f.byName("rdp-desk").ID
	f.w.selectConn(id)
	test.Tap(f.w.detail.editBtn)
	form := f.w.form
	test.Type(form.tags, "windows")
	form.name.SetText("rdp-desktop")
	test.Tap(form.save)
	f.q.drain()
	c, _ := f.ctrl.Connection(id)
	if c.Name != "rdp-desktop" || !slices.Equal(c.Tags, []string{"windows"}) {
		t.Errorf("after edit: got %q %q; want rdp-desktop [windows]", c.Name, c.Tags)
	}
	if got := groupLabels(f.w); !slices.Contains(got, "windows (1)") || slices.Contains(got, "Untagged (1)") {
		t.Errorf("groups after tagging: got %q", got)
	}
}

func TestTagGroupsAndFilter(t *testing.T) {
	f := newFixture(t, sample())
	if got, want := groupLabels(f.w), []string{"All (4)", "db (2)", "prod (2)", "Untagged (1)"}; !slices.Equal(got, want) {
		t.Fatalf("groups: got %q; want %q", got, want)
	}
	for _, tc := range []struct {
		group, filter string
		want          []string
	}{
		{"All (4)", "", []string{"pg-prod", "pg-staging", "rdp-desk", "ssh-bastion"}},
		{"db (2)", "", []string{"pg-prod", "pg-staging"}},
		{"prod (2)", "", []string{"pg-prod", "ssh-bastion"}},
		{"Untagged (1)", "", []string{"rdp-desk"}},
		{"All (4)", "pg", []string{"pg-prod", "pg-staging"}},
		{"All (4)", "PROD", []string{"pg-prod", "ssh-bastion"}},
		{"All (4)", "bastion.internal", []string{"ssh-bastion"}},
		{"db (2)", "staging", []string{"pg-staging"}},
		{"prod (2)", "pg 5432", []string{"pg-prod"}},
		{"Untagged (1)", "pg", []string{}},
	} {
		t.Run(tc.group+"/"+tc.filter, func(t *testing.T) {
			f.selectGroup(tc.group)
			f.w.filter.SetText("")
			if tc.filter != "" {
				test.Type(f.w.filter, tc.filter)
			}
			if got := f.shownNames(); !slices.Equal(got, tc.want) {
				t.Errorf("shown: got %q; want %q", got, tc.want)
			}
			if got := len(f.w.listBox.Objects); got != len(tc.want) {
				t.Errorf("rows: got %d; want %d", got, len(tc.want))
			}
		})
	}
}

func TestConnectAllInGroup(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	f.selectGroup("db (2)")
	if got := f.w.connectAllBtn.Text; got != "Connect all in db" {
		t.Errorf("button: got %q; want %q", got, "Connect all in db")
	}
	test.Tap(f.w.connectAllBtn)
	f.eventually("both db connections listening", func() bool {
		return strings.HasPrefix(f.row("pg-prod").status.Text, "listening") &&
			strings.HasPrefix(f.row("pg-staging").status.Text, "listening")
	})
	for _, name := range []string{"ssh-bastion", "rdp-desk"} {
		if f.ctrl.Running(f.byName(name).ID) {
			t.Errorf("%s: got running; want off (not in the db group)", name)
		}
	}
	if !f.row("pg-prod").toggle.Checked {
		t.Errorf("pg-prod switch: got off; want on")
	}
	test.Tap(f.w.disconnectAllBtn)
	f.eventually("db connections off", func() bool {
		return f.row("pg-prod").status.Text == "off" && f.row("pg-staging").status.Text == "off"
	})
	if f.row("pg-prod").toggle.Checked {
		t.Errorf("pg-prod switch after disconnect all: got on; want off")
	}
}

func TestStatusFromEvents(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	id := f.byName("pg-prod").ID
	f.w.selectConn(id)
	r := f.row("pg-prod")
	test.Tap(r.toggle)
	var l *fakeListener
	f.eventually("listening", func() bool {
		l = fl.get("pg.internal:5432")
		return l != nil && strings.HasPrefix(r.status.Text, "listening")
	})
	steps := []struct {
		name       string
		ev         tunnel.Event
		want       string
		link       bool
		notifyWant string
	}{
		{"sign-in waits", tunnel.Event{Kind: tunnel.EventSignIn, ConnID: 1, SignInURL: "https://proxy.example.com/.pomerium/sign_in?x=1"}, "signing in", true, "Sign-in needed: pg-prod"},
		{"connected", tunnel.Event{Kind: tunnel.EventConnected, ConnID: 1}, "1 active", false, ""},
		{"second", tunnel.Event{Kind: tunnel.EventConnected, ConnID: 2}, "2 active", false, ""},
		{"one closed", tunnel.Event{Kind: tunnel.EventClosed, ConnID: 1, BytesSent: 5, BytesReceived: 5}, "1 active", false, ""},
		{"other closed", tunnel.Event{Kind: tunnel.EventClosed, ConnID: 2}, "listening on " + l.addr.String(), false, ""},
		{"a connection fails", tunnel.Event{Kind: tunnel.EventError, ConnID: 3, Err: errors.New("403 Forbidden: policy denies")}, "error: 403 Forbidden: policy denies", false, "Connection failed: pg-prod"},
		{"next one works", tunnel.Event{Kind: tunnel.EventConnected, ConnID: 4}, "1 active", false, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			l.emit(s.ev)
			f.q.drain()
			// The row shows the address in a column of its own.
			if got, want := r.status.Text, strings.Replace(s.want, " on "+l.addr.String(), "", 1); got != want {
				t.Errorf("row status: got %q; want %q", got, want)
			}
			if got := f.w.detail.status.Text; got != s.want {
				t.Errorf("detail status: got %q; want %q", got, s.want)
			}
			if got := r.signIn.Visible(); got != s.link || r.status.Visible() == s.link {
				t.Errorf("row sign-in link shown: got %v (status shown %v); want %v", got, r.status.Visible(), s.link)
			}
			if got := f.w.detail.signInBox.Visible(); got != s.link {
				t.Errorf("sign-in link shown: got %v; want %v", got, s.link)
			}
			if s.link && f.w.detail.signIn.URL.String() != s.ev.SignInURL {
				t.Errorf("sign-in link: got %v; want %s", f.w.detail.signIn.URL, s.ev.SignInURL)
			}
			if s.notifyWant != "" {
				n := f.notification(s.notifyWant)
				if n == nil || n.Title != s.notifyWant {
					t.Errorf("notification: got %+v; want title %q", n, s.notifyWant)
				}
			}
		})
	}
	log := f.ctrl.Log(id)
	if len(log) < len(steps) || !strings.HasPrefix(log[0].Text, "connected") {
		t.Errorf("log: got %d entries, newest %q; want >= %d, newest 'connected'", len(log), log[0].Text, len(steps))
	}
	if got := len(f.w.detail.entries); got != len(log) {
		t.Errorf("log view: got %d entries; want %d", got, len(log))
	}

	t.Run("export log", func(t *testing.T) {
		f.files.save = filepath.Join(t.TempDir(), "pg.log")
		test.Tap(f.w.detail.exportLogBtn)
		b, err := os.ReadFile(f.files.save)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != len(log) || !strings.Contains(lines[0], "connected #4") || !strings.Contains(lines[len(lines)-1], "starting") {
			t.Errorf("exported log: got %q; want %d lines, newest first", lines, len(log))
		}
	})

	t.Run("listener dies", func(t *testing.T) {
		l.fail(errors.New("accept: too many open files"))
		f.eventually("error state", func() bool { return r.status.Text == "error: accept: too many open files" })
		if r.toggle.Checked {
			t.Errorf("switch: got on; want off after the listener died")
		}
		if n := f.notification("Connection failed: pg-prod"); n == nil || n.Title != "Connection failed: pg-prod" {
			t.Errorf("notification: got %+v", n)
		}
	})
}

func TestStartFails(t *testing.T) {
	fl := &fakeListens{err: errors.New("listen tcp 127.0.0.1:22: bind: permission denied")}
	f := newFixture(t, sample(), fl.opt())
	r := f.row("ssh-bastion")
	test.Tap(r.toggle)
	f.eventually("error shown", func() bool {
		return r.status.Text == "error: listen tcp 127.0.0.1:22: bind: permission denied"
	})
	if r.toggle.Checked {
		t.Errorf("switch: got on; want off")
	}
}

func TestDeleteDuplicateCopy(t *testing.T) {
	f := newFixture(t, append(sample(), connections.Connection{Name: "fixed", Destination: "tcp+https://proxy.example.com/fixed:1", ListenAddr: "127.0.0.1:15999", Tags: []string{"db"}}))
	id := f.byName("fixed").ID
	f.w.selectConn(id)

	test.Tap(f.w.detail.dupBtn)
	f.q.drain()
	dup := f.byName("fixed copy")
	if dup.ID == id || dup.ListenAddr != "" || dup.Destination != "tcp+https://proxy.example.com/fixed:1" || !slices.Equal(dup.Tags, []string{"db"}) {
		t.Errorf("duplicate: got %+v", dup)
	}
	if f.w.selected != dup.ID {
		t.Errorf("after duplicate: got %q selected; want the copy", f.w.selected)
	}

	f.w.selectConn(id)
	test.Tap(f.w.detail.copyAddrBtn)
	if got := f.app.Clipboard().Content(); got != "127.0.0.1:15999" {
		t.Errorf("clipboard: got %q; want 127.0.0.1:15999", got)
	}

	test.Tap(f.w.detail.deleteBtn)
	test.Tap(findButton(t, f.w.Window().Canvas(), "Cancel"))
	if _, ok := f.ctrl.Connection(id); !ok {
		t.Fatalf("cancelled delete removed the connection")
	}
	test.Tap(f.w.detail.deleteBtn)
	test.Tap(findButton(t, f.w.Window().Canvas(), "Delete"))
	f.q.drain()
	if _, ok := f.ctrl.Connection(id); ok {
		t.Errorf("confirmed delete kept the connection")
	}
	if f.row("fixed") != nil {
		t.Errorf("deleted connection still has a row")
	}
}

func TestTrayMenu(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	labels := func() []string {
		f.app.mu.Lock()
		defer f.app.mu.Unlock()
		var out []string
		for _, it := range f.app.menu.Items {
			out = append(out, it.Label)
		}
		return out
	}
	want := []string{"Show Porthole", "", "pg-prod — off", "pg-staging — off", "rdp-desk — off", "ssh-bastion — off"}
	if got := labels(); !slices.Equal(got, want) {
		t.Fatalf("tray: got %q; want %q", got, want)
	}
	f.app.menu.Items[4].Action() // rdp-desk, untagged
	f.eventually("tray shows rdp-desk listening", func() bool {
		return strings.HasPrefix(labels()[4], "rdp-desk — listening on 127.0.0.1:") && f.app.menu.Items[4].Checked
	})
	f.app.menu.Items[4].Action()
	f.eventually("rdp-desk off", func() bool { return labels()[4] == "rdp-desk — off" })
}

func TestAutostart(t *testing.T) {
	fl := &fakeListens{}
	seed := sample()
	seed[1].Autostart = true // pg-staging
	f := newFixture(t, seed, fl.opt())
	f.ctrl.StartAutostart()
	f.eventually("pg-staging started", func() bool { return strings.HasPrefix(f.row("pg-staging").status.Text, "listening") })
	if got := len(fl.all()); got != 1 {
		t.Errorf("listeners started: got %d; want 1", got)
	}
}

// entryT keeps the table above readable.
type entryT = widgetEntry

// TestStoreChangedOutside: a connection added by pomerium-cli (another
// Store on the same file) shows up in the running window.
func TestStoreChangedOutside(t *testing.T) {
	f := newFixture(t, sample())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.ctrl.WatchStore(ctx, 50*time.Millisecond)
	cli := connections.NewStore(f.ctrl.Store.Path)
	if _, err := cli.Put(connections.Connection{Name: "from-cli", Destination: "tcp+https://proxy.example.com/cli:1", Tags: []string{"cli"}}); err != nil {
		t.Fatal(err)
	}
	f.eventually("the CLI's connection in the list", func() bool { return f.row("from-cli") != nil })
	if got := groupLabels(f.w); !slices.Contains(got, "cli (1)") {
		t.Errorf("groups: got %q; want a cli group", got)
	}

	// Removed outside while running: it stops, as no row is left for it.
	id := f.byName("from-cli").ID
	if err := f.ctrl.Start(id); err != nil {
		t.Fatal(err)
	}
	addr := f.ctrl.State(id).Addr
	if addr == "" {
		t.Fatal("from-cli started with no local address")
	}
	if err := cli.Delete(id); err != nil {
		t.Fatal(err)
	}
	f.eventually("from-cli gone and stopped", func() bool { return f.row("from-cli") == nil && f.ctrl.RunningCount() == 0 })
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Errorf("local address %s of the removed connection still accepts", addr)
	}
}

// TestAutostartAtLaunch: with Options.Autostart (what pomerium-desktop
// passes unless --no-autostart), the window starts the connections marked
// "start at launch" itself; one that cannot start shows its error in its
// row and sends a notification, as any other failure does.
func TestAutostartAtLaunch(t *testing.T) {
	seed := sample()
	seed[1].Autostart = true                                                  // pg-staging: starts
	seed[2].Autostart, seed[2].ListenAddr = true, "127.0.0.1:22"              // ssh-bastion: cannot listen
	bindErr := errors.New("listen tcp 127.0.0.1:22: bind: permission denied") // as tunnel.Listen would say
	fl := &fakeListens{}
	f := newFixture(t, seed, fl.opt(), func(c *Controller, o *Options) {
		o.Autostart = true
		fake := c.Listen
		c.Listen = func(ctx context.Context, addr string, cfg tunnel.Config) (Listener, error) {
			if addr == "127.0.0.1:22" {
				return nil, bindErr
			}
			return fake(ctx, addr, cfg)
		}
	})
	f.eventually("pg-staging listening and ssh-bastion failed", func() bool {
		return strings.HasPrefix(f.row("pg-staging").status.Text, "listening") &&
			f.row("ssh-bastion").status.Text == "error: "+bindErr.Error()
	})
	if n := f.notification("Connection failed: ssh-bastion"); n == nil || n.Title != "Connection failed: ssh-bastion" || n.Content != bindErr.Error() {
		t.Errorf("notification: got %+v; want %q saying %q", n, "Connection failed: ssh-bastion", bindErr)
	}
	if f.row("ssh-bastion").toggle.Checked {
		t.Errorf("ssh-bastion switch: got on; want off after failing to start")
	}
	for _, name := range []string{"pg-prod", "rdp-desk"} {
		if f.ctrl.Running(f.byName(name).ID) {
			t.Errorf("%s: got running; want off (not marked start at launch)", name)
		}
	}
	if got := len(fl.all()); got != 1 {
		t.Errorf("listeners started: got %d; want 1", got)
	}
	// The window opens on the connection that started, not the first one.
	if got := f.w.detail.title.Text; got != "pg-staging" {
		t.Errorf("detail: got %q; want pg-staging, the running connection", got)
	}
	// Once the user has picked one, a connection starting keeps out.
	test.Tap(f.row("rdp-desk"))
	test.Tap(f.row("pg-prod").toggle)
	f.eventually("pg-prod listening", func() bool { return strings.HasPrefix(f.row("pg-prod").status.Text, "listening") })
	if got := f.w.detail.title.Text; got != "rdp-desk" {
		t.Errorf("detail after the user picked rdp-desk: got %q; want rdp-desk", got)
	}
}

// TestCorruptStore: a connections file that cannot be read is reported
// with its path when the window opens, and saving from the window leaves
// it as it was.
func TestCorruptStore(t *testing.T) {
	const broken = `{"version":1,"connections":[`
	var path string
	f := newFixture(t, nil, func(c *Controller, _ *Options) {
		path = c.Store.Path
		if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.Contains(f.w.lastInfo, path) || !strings.Contains(f.w.lastInfo, "fix or move it away") {
		t.Errorf("message at open: got %q; want the path %s and the hint", f.w.lastInfo, path)
	}
	test.Tap(f.w.addBtn)
	form := f.w.form
	test.Type(form.name, "pg")
	test.Type(form.dest, "tcp+https://proxy.example.com/pg.internal:5432")
	test.Tap(form.save)
	f.q.drain()
	if !strings.Contains(f.w.lastInfo, path) {
		t.Errorf("message after Save: got %q; want the path %s", f.w.lastInfo, path)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != broken {
		t.Errorf("store after Save: got %q, %v; want it kept as %q", b, err, broken)
	}
}
