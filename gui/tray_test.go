package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
)

// hideRecorder records Hide: Fyne's test window neither runs the close
// intercept nor tracks visibility, so the test calls the intercept itself.
type hideRecorder struct {
	fyne.Window
	hides int
}

func (h *hideRecorder) Hide() { h.hides++; h.Window.Hide() }

// TestCloseIntercept: closing the window hides it to the tray while a
// connection runs, and quits the app when nothing does.
func TestCloseIntercept(t *testing.T) {
	for _, tc := range []struct {
		name      string
		running   bool
		wantHides int
		wantQuits int
	}{
		{"nothing running quits", false, 0, 1},
		{"a connection running hides", true, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := &fakeListens{}
			f := newFixture(t, sample(), fl.opt())
			if tc.running {
				f.row("pg-prod").toggle.SetChecked(true)
				f.eventually("pg-prod listening", func() bool {
					return strings.HasPrefix(f.row("pg-prod").status.Text, "listening on ")
				})
			}
			rec := &hideRecorder{Window: f.w.win}
			f.w.win = rec
			t.Cleanup(func() { f.w.win = rec.Window })
			f.w.closeRequested()
			f.app.mu.Lock()
			quits := f.app.quits
			f.app.mu.Unlock()
			if rec.hides != tc.wantHides || quits != tc.wantQuits {
				t.Errorf("close: got %d hides, %d quits; want %d hides, %d quits", rec.hides, quits, tc.wantHides, tc.wantQuits)
			}
		})
	}
}
