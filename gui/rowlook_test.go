package gui

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestShortenMiddle(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"0123456789", 10, "0123456789"},
		{"0123456789abc", 10, "0123…89abc"},
		{"tcp+https://proxy.example.com/very-long-database-name.internal:5432", 44, "tcp+https://proxy.exa…ase-name.internal:5432"},
		{"äöüäöüäöüäöü", 5, "äö…öü"},
	} {
		got := shortenMiddle(tc.in, tc.max)
		if got != tc.want || utf8.RuneCountInString(got) > tc.max && len(tc.in) > tc.max {
			t.Errorf("shortenMiddle(%q, %d): got %q; want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestDotKind(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		s    State
		want string
	}{
		{State{}, dotOff},
		{State{Err: boom}, dotError},
		{State{Running: true, Starting: true}, dotConnecting},
		{State{Running: true, SignInURL: "https://x"}, dotConnecting},
		{State{Running: true, Addr: "127.0.0.1:1"}, dotListening},
		{State{Running: true, Addr: "127.0.0.1:1", Active: 2}, dotActive},
		{State{Running: true, Addr: "127.0.0.1:1", Err: boom}, dotError},
	} {
		if got := dotKind(tc.s); got != tc.want {
			t.Errorf("dotKind(%+v): got %q; want %q", tc.s, got, tc.want)
		}
	}
}

// TestRowOneLine: a row is one line (no taller than one label plus a
// separator), with its tags, shortened destination, local address while
// off and a status dot that follows the state.
func TestRowOneLine(t *testing.T) {
	long := sample()
	long[0].Destination = "tcp+https://proxy.example.com/a-really-long-postgres-primary.db.internal:5432"
	long[0].ListenAddr = "127.0.0.1:15432"
	fl := &fakeListens{}
	f := newFixture(t, long, fl.opt())
	r := f.row("pg-prod")
	if r == nil {
		t.Fatal("no pg-prod row")
	}
	if h, one := r.MinSize().Height, widget.NewLabel("x").MinSize().Height; h > one*1.5 {
		t.Errorf("row height %v; want one line (label %v)", h, one)
	}
	if got := r.dest.Text; utf8.RuneCountInString(got) > destMaxRunes || !strings.HasPrefix(got, "tcp+https://proxy.") || !strings.HasSuffix(got, ".internal:5432") || !strings.Contains(got, "…") {
		t.Errorf("destination: got %q; want it shortened in the middle to %d runes", got, destMaxRunes)
	}
	if r.tags.Text != "#db #prod" {
		t.Errorf("tags: got %q; want #db #prod", r.tags.Text)
	}
	if r.listen.Text != "127.0.0.1:15432" || r.kind != dotOff {
		t.Errorf("off: listen %q dot %q; want the saved address and an off dot", r.listen.Text, r.kind)
	}
	if r.toggle.Text != "" {
		t.Errorf("switch label %q; want none (the row says the state)", r.toggle.Text)
	}
	test.Tap(r.toggle)
	f.eventually("listening dot", func() bool { return r.kind == dotListening })
	if r.dot.FillColor != dotColor(dotListening) {
		t.Errorf("dot colour not updated")
	}
}

// TestLogTimeOnly: log lines show the time, the heading the date, and
// selecting a line shows it whole.
func TestLogTimeOnly(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	id := f.w.selected
	f.w.setRunning(id, true)
	f.eventually("a log line", func() bool { return len(f.w.detail.entries) > 0 })
	e := f.w.detail.entries[0]
	if want := "Log, " + e.Time.Format("Mon 2 Jan 2006"); !strings.HasPrefix(f.w.detail.logHead.Text, want) {
		t.Errorf("log heading: got %q; want it to start %q", f.w.detail.logHead.Text, want)
	}
	item := f.w.detail.logList.CreateItem()
	f.w.detail.logList.UpdateItem(0, item)
	if got := item.(*widget.Label).Text; got != e.Time.Format("15:04:05")+"  "+e.Text {
		t.Errorf("log line: got %q; want the time only before the text", got)
	}
	f.w.detail.logList.Select(0)
	if f.w.lastInfo != e.String() {
		t.Errorf("selected log line: shown %q; want %q", f.w.lastInfo, e.String())
	}
}
