package gui

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

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
	// Cut to the row's width from the middle: the route's port stays.
	if got := r.dest.Text; utf8.RuneCountInString(got) > destMaxRunes || !strings.HasSuffix(got, ":5432") || !strings.Contains(got, "…") {
		t.Errorf("destination: got %q; want it shortened in the middle (at most %d runes), the route's port kept", got, destMaxRunes)
	}
	if got := r.tagNames(); strings.Join(got, ",") != "db,prod" {
		t.Errorf("tag chips: got %q; want db, prod", got)
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

// TestLogView: lines show the time only and whole (wrapped, the row as
// tall as it needs), under a heading each time the day changes.
func TestLogView(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	id := f.w.selected
	day1 := time.Date(2026, 11, 30, 23, 59, 58, 0, time.Local)
	day2 := day1.Add(3 * time.Second)
	long := "error: " + strings.Repeat("a long cause that does not fit on one line ", 8)
	f.ctrl.mu.Lock()
	f.ctrl.logAtLocked(id, day1, "starting")
	f.ctrl.logAtLocked(id, day2, "listening")
	f.ctrl.logAtLocked(id, day2.Add(time.Second), long)
	f.ctrl.mu.Unlock()
	f.w.detail.show(id)
	f.w.Window().Resize(fyne.NewSize(1100, 700))

	v := f.w.detail.log
	var got []string
	for _, it := range v.items {
		got = append(got, it.text())
	}
	want := []string{
		"Tue 1 Dec 2026", "00:00:02  " + long, "00:00:01  listening",
		"Mon 30 Nov 2026", "23:59:58  starting",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("log items:\ngot  %q\nwant %q", got, want)
	}
	item := v.CreateItem()
	v.UpdateItem(1, item)
	l := item.(*widget.Label)
	if l.Text != want[1] || l.Truncation != fyne.TextTruncateOff || l.Wrapping != fyne.TextWrapWord {
		t.Errorf("long line: got %q (truncation %v, wrapping %v); want it whole and wrapped", l.Text, l.Truncation, l.Wrapping)
	}
	v.UpdateItem(0, item)
	if !item.(*widget.Label).TextStyle.Bold {
		t.Errorf("day heading: not bold")
	}
	if v.width <= 0 || len(v.heights) != len(want) {
		t.Fatalf("log rows not measured: width %v, %d heights", v.width, len(v.heights))
	}
	if v.heights[1] < 2*v.heights[2] {
		t.Errorf("long line's row: height %v; want at least two lines (a short line is %v)", v.heights[1], v.heights[2])
	}
}

// TestRowHoverAndSelection: the mouse over a row lights it, the selected
// row shows the selection colour instead, and only one row is selected.
func TestRowHoverAndSelection(t *testing.T) {
	f := newFixture(t, sample())
	a, b := f.row("pg-prod"), f.row("pg-staging")
	test.Tap(b)
	if !b.bg.Visible() || a.bg.Visible() {
		t.Fatalf("after tapping pg-staging: selected shown on pg-prod %v, pg-staging %v; want pg-staging only", a.bg.Visible(), b.bg.Visible())
	}
	a.MouseIn(nil)
	if !a.hoverBg.Visible() {
		t.Errorf("mouse over pg-prod: no hover light")
	}
	b.MouseIn(nil)
	if b.hoverBg.Visible() {
		t.Errorf("mouse over the selected row: hover light shown over the selection")
	}
	a.MouseOut()
	if a.hoverBg.Visible() {
		t.Errorf("mouse left pg-prod: hover light still on")
	}
	test.Tap(a)
	if !a.bg.Visible() || b.bg.Visible() || f.w.detail.title.Text != "pg-prod" {
		t.Errorf("after tapping pg-prod: selection pg-prod %v, pg-staging %v, detail %q", a.bg.Visible(), b.bg.Visible(), f.w.detail.title.Text)
	}
}

// TestOneSwitch: the row's switch is the only one; the detail pane has
// none (issue 18: a second "Connected" checkbox).
func TestOneSwitch(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	checks := 0
	for _, o := range test.LaidOutObjects(f.w.detail.box) {
		if _, ok := o.(*widget.Check); ok {
			checks++
		}
	}
	if checks != 0 {
		t.Errorf("detail pane: %d checkboxes; want none (the row's switch is the one)", checks)
	}
}
