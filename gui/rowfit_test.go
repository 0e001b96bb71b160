package gui

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/tunnel"
)

// rowFitSeed are the rows of the Xvfb screenshots: an idle one, one
// carrying traffic, one failing, each behind the same proxy.
func rowFitSeed() []connections.Connection {
	proxy := "tcp+https://127.0.0.1:39797/"
	return []connections.Connection{
		{Name: "admin-echo", Destination: proxy + "admin-echo.internal:7001", Tags: []string{"demo", "dev"}},
		{Name: "echo", Destination: proxy + "echo.internal:7000", Tags: []string{"demo", "dev"}},
		{Name: "untrusted", Destination: proxy + "echo.internal:7000", Tags: []string{"dev"}},
	}
}

// TestRowKeepsDestination: at the Xvfb tests' window size and narrower,
// every row shows at least its route's host:port, stays one line and
// keeps its parts inside the row, whatever the status says; the status
// is whole when there is room, else brief with the counters and the
// cause in the detail pane.
func TestRowKeepsDestination(t *testing.T) {
	f := newFixture(t, rowFitSeed())
	counters := State{Running: true, Addr: "127.0.0.1:43093", Active: 1,
		Traffic: tunnel.Stats{Active: 1, Total: 1, BytesSent: 303 << 10, BytesReceived: 303 << 10}}
	failed := State{Err: fmt.Errorf("dialing: %w", x509.UnknownAuthorityError{})}
	// The failure is the controller's (a refresh shows it again); the
	// counters are set on the row after each refresh.
	id := f.byName("untrusted").ID
	f.ctrl.mu.Lock()
	f.ctrl.setFailedLocked(id, failed.Err)
	f.ctrl.mu.Unlock()
	full := counters.Short()
	if !strings.Contains(full, "↑303 KiB ↓303 KiB") {
		t.Fatalf("counters status %q; want both counters", full)
	}
	for _, width := range []float32{1100, 1000} {
		f.w.Window().Resize(fyne.NewSize(width, 680))
		f.q.drain()
		f.row("echo").update(counters)
		label := widget.NewLabel("x").MinSize().Height
		for _, tc := range []struct {
			row, hostPort string
			status        []string // what the status may say, roomiest first
		}{
			{"admin-echo", "admin-echo.internal:7001", []string{"off"}},
			{"echo", "echo.internal:7000", []string{full, "1 active"}},
			{"untrusted", "echo.internal:7000", []string{"error: the server's certificate is not trusted", "error"}},
		} {
			r := f.row(tc.row)
			if !strings.HasSuffix(r.dest.Text, tc.hostPort) || !r.dest.Visible() {
				t.Errorf("%v wide, %s: destination shows %q; want it to end in %s", width, tc.row, r.dest.Text, tc.hostPort)
			}
			if fyne.MeasureText(r.dest.Text, theme.TextSize(), r.dest.TextStyle).Width > r.dest.Size().Width {
				t.Errorf("%v wide, %s: destination %q wider than its %v px", width, tc.row, r.dest.Text, r.dest.Size().Width)
			}
			if h := r.Size().Height; h > label*1.5 {
				t.Errorf("%v wide, %s: row %v tall; want one line (label %v)", width, tc.row, h, label)
			}
			ok := false
			for _, s := range tc.status {
				ok = ok || r.status.Text == s
			}
			if !ok {
				t.Errorf("%v wide, %s: status %q; want one of %q", width, tc.row, r.status.Text, tc.status)
			}
			// Left to right without overlap, the switch inside the row.
			x := float32(0)
			for _, i := range []int{rlDot, rlName, rlDest, rlListen, rlStatus, rlToggle} {
				o := r.line.Objects[i]
				if o.Position().X < x-0.5 {
					t.Errorf("%v wide, %s: %T at x=%v overlaps the part before (ends at %v)", width, tc.row, o, o.Position().X, x)
				}
				x = o.Position().X + o.Size().Width
			}
			if x > r.Size().Width+0.5 {
				t.Errorf("%v wide, %s: parts end at %v, past the row's %v", width, tc.row, x, r.Size().Width)
			}
		}
		// The idle row leaves its room to the destination and its tags.
		if r := f.row("admin-echo"); strings.Join(r.tagNames(), ",") != "demo,dev" {
			t.Errorf("%v wide: tags %q", width, r.tagNames())
		}
	}
	// At the Xvfb size the connected row shows its counters whole.
	f.w.Window().Resize(fyne.NewSize(1100, 680))
	f.q.drain()
	f.row("echo").update(counters)
	if got := f.row("echo").status.Text; got != full {
		t.Errorf("1100 wide: echo's status %q; want %q", got, full)
	}
}

// TestRowBudget: a row short of room gives up, in order, its tag chips
// for "+N", the counters (brief status) and the tags, never the
// destination's host:port.
func TestRowBudget(t *testing.T) {
	f := newFixture(t, rowFitSeed())
	f.q.drain()
	r := f.row("echo")
	r.update(State{Running: true, Addr: "127.0.0.1:43093", Active: 1,
		Traffic: tunnel.Stats{Active: 1, Total: 1, BytesSent: 303 << 10, BytesReceived: 303 << 10}})
	wide := r.Size().Width
	l := rowLayout{r}
	var last rowPlan
	sawMore, sawBrief := false, false
	for w := wide + 300; w >= r.MinSize().Width; w -= 5 {
		p := l.plan(w)
		r.line.Resize(fyne.NewSize(w, r.line.Size().Height))
		if !strings.HasSuffix(r.dest.Text, "echo.internal:7000") {
			t.Fatalf("%v wide: destination %q; want the route's host:port", w, r.dest.Text)
		}
		if p.dest < r.dest.floor()-0.5 {
			t.Errorf("%v wide: destination %v px; want at least its floor %v", w, p.dest, r.dest.floor())
		}
		if p.more > 0 {
			sawMore = true
			if r.more.text.Text != "+2" || !r.more.Visible() {
				t.Errorf("%v wide: more chip %q shown %v; want +2", w, r.more.text.Text, r.more.Visible())
			}
		}
		if p.brief {
			sawBrief = true
			if r.status.Text != "1 active" {
				t.Errorf("%v wide: brief status %q; want 1 active", w, r.status.Text)
			}
		}
		if last.brief && !p.brief {
			t.Errorf("%v wide: whole status again after the brief one", w)
		}
		last = p
	}
	if !sawMore || !sawBrief {
		t.Errorf("narrowing from %v: saw +N %v, brief status %v; want both", wide+300, sawMore, sawBrief)
	}
}

// TestAccountEmailWhole: the account area wraps between words only: an
// email fits its line whole, or is cut from the middle with "…".
func TestAccountEmailWhole(t *testing.T) {
	f := newFixture(t, rowFitSeed())
	u, _ := url.Parse("https://127.0.0.1:39797")
	// The window's own load of the (empty) servers first, so it does
	// not replace the accounts shown below.
	f.eventually("the first accounts load", func() bool {
		f.w.accounts.mu.Lock()
		defer f.w.accounts.mu.Unlock()
		return f.w.accounts.loads > 0 && !f.w.accounts.loading
	})
	long := "firstname.lastname.with-a-long-department@subsidiary.example-company.com"
	f.w.accounts.show([]Account{
		{Server: u, Host: "127.0.0.1:39797", Who: "dev@example.com"},
		{Server: u, Host: "127.0.0.2:39797", Who: long},
	})
	for _, width := range []float32{1100, 1000} {
		f.w.Window().Resize(fyne.NewSize(width, 680))
		f.q.drain()
		if got := f.w.filter.Size().Width; got < sidebarMin()-2*theme.Padding()-0.5 {
			t.Errorf("%v wide: filter %v px; want room for %q", width, got, filterHint)
		}
		short := f.w.accounts.rows["127.0.0.1:39797"].who
		if short.Text != "signed in as dev@example.com" {
			t.Errorf("%v wide: %q; want the email whole", width, short.Text)
		}
		lw := f.w.accounts.rows["127.0.0.2:39797"].who
		if lw.Text == accountText(Account{Who: long}) || !strings.Contains(lw.Text, "…") || !strings.HasPrefix(lw.Text, "signed in as ") {
			t.Errorf("%v wide: long email shown as %q; want it cut with …", width, lw.Text)
		}
		for _, who := range []*wordLabel{short, lw} {
			avail := who.Size().Width - 2*theme.InnerPadding()
			for _, word := range strings.Fields(who.Text) {
				if w := fyne.MeasureText(word, theme.TextSize(), who.TextStyle).Width; w > avail {
					t.Errorf("%v wide: word %q is %v px in a %v px line: Fyne would break it mid-word", width, word, w, avail)
				}
			}
		}
	}
}

func TestFitWords(t *testing.T) {
	fits := func(s string) bool { return len([]rune(s)) <= 10 }
	for _, tc := range []struct{ in, want string }{
		{"signed in as dev@ex.com", "signed in as dev@ex.com"},
		{"signed in as someone@example.com", "signed in as some…e.com"},
		{"", ""},
	} {
		if got := fitWords(tc.in, fits); got != tc.want {
			t.Errorf("fitWords(%q): got %q; want %q", tc.in, got, tc.want)
		}
	}
}
