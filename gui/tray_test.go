package gui

import (
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"
)

// hideRecorder records Hide: Fyne's test window neither runs the close
// intercept nor tracks visibility, so the test calls the intercept itself.
type hideRecorder struct {
	fyne.Window
	hides int
}

func (h *hideRecorder) Hide() { h.hides++; h.Window.Hide() }

// TestCloseIntercept: with a tray, closing the window hides it there
// whatever runs; without one, it quits when nothing runs and asks first
// when connections would stop.
func TestCloseIntercept(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tray      bool
		running   bool
		answer    string // the confirmation's button to tap; "" when none may show
		wantHides int
		wantQuits int
	}{
		{name: "tray, nothing running hides", tray: true, wantHides: 1},
		{name: "tray, a connection running hides", tray: true, running: true, wantHides: 1},
		{name: "no tray, nothing running quits", wantQuits: 1},
		{name: "no tray, running, cancel keeps it", running: true, answer: "Cancel"},
		{name: "no tray, running, quit", running: true, answer: "Quit", wantQuits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := &fakeListens{}
			f := newFixture(t, sample(), fl.opt(), func(_ *Controller, o *Options) {
				o.TrayHost = func() bool { return tc.tray }
			})
			if tc.running {
				f.row("pg-prod").toggle.SetChecked(true)
				f.eventually("pg-prod listening", func() bool {
					return strings.HasPrefix(f.row("pg-prod").status.Text, "listening")
				})
			}
			rec := &hideRecorder{Window: f.w.win}
			f.w.win = rec
			t.Cleanup(func() { f.w.win = rec.Window })
			f.w.closeRequested()
			if tc.answer != "" {
				if f.w.confirm == nil {
					t.Fatal("closing with a connection running and no tray asked nothing; want a confirmation")
				}
				test.Tap(findButton(t, rec.Window.Canvas(), tc.answer))
			} else if f.w.confirm != nil {
				t.Error("closing showed a confirmation; want none")
			}
			f.app.mu.Lock()
			quits := f.app.quits
			f.app.mu.Unlock()
			if rec.hides != tc.wantHides || quits != tc.wantQuits {
				t.Errorf("close: got %d hides, %d quits; want %d hides, %d quits", rec.hides, quits, tc.wantHides, tc.wantQuits)
			}
		})
	}
}

// TestSystemTrayHost asks the real session bus: no tray host until a
// process owns the StatusNotifierWatcher name, then one.
func TestSystemTrayHost(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("PORTHOLE_STRICT") == "1" {
			t.Fatal("no session bus (PORTHOLE_STRICT=1): run under scripts/with-keyring.sh, as make test does")
		}
		t.Skip("no session bus; make test runs this under dbus-run-session")
	}
	const name = "org.kde.StatusNotifierWatcher"
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned); err != nil {
		t.Fatal(err)
	}
	if owned {
		t.Fatalf("%s already owned on this bus; the test needs a bus of its own", name)
	}
	if systemTrayHost() {
		t.Error("systemTrayHost() = true with no watcher on the bus")
	}
	if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("claiming %s: %v (reply %v)", name, err, reply)
	}
	if !systemTrayHost() {
		t.Error("systemTrayHost() = false while a watcher owns the name")
	}
	if _, err := conn.ReleaseName(name); err != nil {
		t.Fatal(err)
	}
}
