package gui

import (
	"bytes"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/cli/version"
	"github.com/porthole-dev/porthole/connections"
)

func TestEmptyState(t *testing.T) {
	f := newFixture(t, nil)
	if !f.w.emptyBox.Visible() || !strings.Contains(f.w.empty.Text, "Import the routes") {
		t.Errorf("empty store: got no empty state (%q); want the two ways to start", f.w.empty.Text)
	}
	for name, b := range map[string]*widget.Button{"Connect all": f.w.connectAllBtn, "Disconnect all": f.w.disconnectAllBtn, "Export": f.w.exportBtn} {
		if !b.Disabled() {
			t.Errorf("empty store: %s enabled; want disabled (it would do nothing)", name)
		}
	}
	test.Tap(f.w.emptyAddBtn)
	if f.w.form == nil {
		t.Errorf("empty state's Add connection: no form opened")
	}
	f2 := newFixture(t, nil)
	test.Tap(f2.w.emptyPortalBtn)
	if f2.w.importer == nil {
		t.Errorf("empty state's Import from portal: no import opened")
	}
	f3 := newFixture(t, sample())
	if f3.w.emptyBox.Visible() {
		t.Errorf("with connections: empty state still shown")
	}
}

// TestBulkActionsFollowState: Connect all only when something shown is
// off, Disconnect all only when something is on.
func TestBulkActionsFollowState(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	if f.w.connectAllBtn.Disabled() || !f.w.disconnectAllBtn.Disabled() || f.w.exportBtn.Disabled() {
		t.Fatalf("all off: got connect all disabled=%v, disconnect all disabled=%v, export disabled=%v; want false, true, false",
			f.w.connectAllBtn.Disabled(), f.w.disconnectAllBtn.Disabled(), f.w.exportBtn.Disabled())
	}
	test.Tap(f.w.connectAllBtn)
	f.eventually("every connection running", func() bool { return f.ctrl.RunningCount() == len(sample()) })
	f.eventually("Connect all disabled, Disconnect all enabled", func() bool {
		return f.w.connectAllBtn.Disabled() && !f.w.disconnectAllBtn.Disabled()
	})
	test.Tap(f.w.disconnectAllBtn)
	f.eventually("Connect all enabled, Disconnect all disabled", func() bool {
		return !f.w.connectAllBtn.Disabled() && f.w.disconnectAllBtn.Disabled()
	})
}

func TestDeleteIsDanger(t *testing.T) {
	f := newFixture(t, sample())
	if f.w.detail.deleteBtn.Importance != widget.DangerImportance {
		t.Errorf("detail Delete: importance %v; want danger", f.w.detail.deleteBtn.Importance)
	}
	test.Tap(f.w.detail.deleteBtn)
	b := findButton(t, f.w.win.Canvas(), "Delete")
	if b.Importance != widget.DangerImportance {
		t.Errorf("confirmation's Delete: importance %v; want danger", b.Importance)
	}
	if n := len(f.ctrl.Connections()); n != len(sample()) {
		t.Errorf("before confirming: %d connections; want nothing deleted yet", n)
	}
	test.Tap(b)
	f.q.drain()
	if n := len(f.ctrl.Connections()); n != len(sample())-1 {
		t.Errorf("after confirming: %d connections; want %d", n, len(sample())-1)
	}
}

func TestAbout(t *testing.T) {
	f := newFixture(t, nil)
	test.Tap(f.w.aboutBtn)
	for _, want := range []string{"Version " + version.String(), "Ctrl+N", "Ctrl+Q"} {
		if !strings.Contains(f.w.lastInfo, want) {
			t.Errorf("About: no %q in %q", want, f.w.lastInfo)
		}
	}
	if f.w.win.Canvas().Overlays().Top() == nil {
		t.Errorf("About: no dialog shown")
	}
}

func TestShortcuts(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	press := func(k fyne.KeyName) {
		t.Helper()
		f.w.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault})
		f.q.drain()
	}
	press(fyne.KeyF)
	if f.w.win.Canvas().Focused() != f.w.filter {
		t.Errorf("Ctrl+F: focus on %v; want the filter", f.w.win.Canvas().Focused())
	}
	sel := f.w.selected
	press(fyne.KeyReturn)
	f.eventually("Ctrl+Return starts the selected connection", func() bool { return f.ctrl.Running(sel) })
	press(fyne.KeyReturn)
	f.eventually("Ctrl+Return again stops it", func() bool { return !f.ctrl.Running(sel) })
	press(fyne.KeyDelete)
	if f.w.confirm == nil {
		t.Errorf("Ctrl+Delete: no confirmation; want one before deleting")
	}
	f.w.confirm.Hide()
	f.w.confirm = nil
	press(fyne.KeyN)
	if f.w.form == nil {
		t.Errorf("Ctrl+N: no add form")
	}
	press(fyne.KeyQ)
	if f.app.quits != 1 {
		t.Errorf("Ctrl+Q with nothing running: %d quits; want 1", f.app.quits)
	}
}

// TestRiskyFileImport: a file whose connection listens on every
// interface and starts on its own is shown first and saved only on
// Import; Cancel saves nothing.
func TestRiskyFileImport(t *testing.T) {
	f := newFixture(t, nil)
	path := filepath.Join(t.TempDir(), "risky.json")
	var buf bytes.Buffer
	risky := []connections.Connection{{ID: "imp-1", Name: "open-db", Destination: "tcp+https://proxy.example.com/db.internal:5432", ListenAddr: "0.0.0.0:15432", Autostart: true}}
	if err := connections.Export(&buf, risky, connections.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f.files.open = path
	for _, tc := range []struct {
		button string
		want   int
	}{{"Cancel", 0}, {"Import", 1}} {
		test.Tap(f.w.importBtn)
		f.q.drain()
		if !strings.Contains(f.w.lastInfo, "open-db") || !strings.Contains(f.w.lastInfo, "0.0.0.0") || !strings.Contains(f.w.lastInfo, "starts on its own") {
			t.Errorf("risky import: shown %q; want the connection's non-loopback listener and autostart", f.w.lastInfo)
		}
		if n := len(f.ctrl.Connections()); n != 0 && tc.button == "Cancel" {
			t.Errorf("before answering: %d connections saved; want none", n)
		}
		test.Tap(findButton(t, f.w.win.Canvas(), tc.button))
		f.q.drain()
		if n := len(f.ctrl.Connections()); n != tc.want {
			t.Errorf("after %s: %d connections; want %d", tc.button, n, tc.want)
		}
	}
}

// TestPortalImportPrefill: the portal import starts from the server
// pomerium-cli used last (servers.json written by the CLI's own code).
func TestPortalImportPrefill(t *testing.T) {
	f := newFixture(t, nil)
	cf := &cmdutil.Factory{IO: cmdutil.NewIOStreams(strings.NewReader(""), io.Discard, io.Discard), ConfigDir: f.w.serversDir}
	for _, s := range []string{"https://old.example.com", "https://portal.example.com"} {
		u, _ := url.Parse(s)
		if err := cf.RememberServer(u, ""); err != nil {
			t.Fatal(err)
		}
	}
	test.Tap(f.w.portalBtn)
	if f.w.importer == nil {
		t.Fatal("no portal import opened")
	}
	if got := f.w.importer.portalURL.Text; got != "https://portal.example.com" {
		t.Errorf("portal URL: got %q; want the last used server", got)
	}
	empty := newFixture(t, nil)
	test.Tap(empty.w.portalBtn)
	if got := empty.w.importer.portalURL.Text; got != "" {
		t.Errorf("no remembered server: got %q; want empty", got)
	}
}
