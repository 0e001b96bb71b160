package tui

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

// FuzzShortenFrom: whatever a portal sends as a from value, the shortened
// form is never wider than asked and carries nothing a terminal obeys.
func FuzzShortenFrom(f *testing.F) {
	for _, s := range termtest.Samples {
		f.Add("tcp+https://"+s+"/db:5432", 20)
	}
	f.Add("tcp+https://プロキシ/データ:1", 9)
	f.Add("udp+https://p//", 3)
	f.Fuzz(func(t *testing.T, from string, w int) {
		w = w % 300
		got := ShortenFrom(from, w)
		if gw := ansi.StringWidth(got); gw > max(w, 0) {
			t.Fatalf("ShortenFrom(%q, %d) = %q: %d columns", from, w, got, gw)
		}
		if err := termtest.Check(got, false); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRankAndRow: any filter over any row ranks without panicking, its
// hits point into the field, and the drawn row (highlights included)
// fits the columns and holds only the picker's own styles.
func FuzzRankAndRow(f *testing.F) {
	for _, s := range termtest.Samples {
		f.Add(s, "tcp+https://p/"+s+":1", s, s[:1], 40)
	}
	f.Add("İstanbul", "tcp+https://p/x:1", "ǅ", "ǆ", 30)
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	hit := r.NewStyle().Underline(true)
	f.Fuzz(func(t *testing.T, name, from, desc, q string, w int) {
		w = 10 + abs(w%200)
		if q == "" {
			return
		}
		it := Item{Name: name, Type: "tcp", From: from, Description: desc, Tags: []string{desc}}
		items, ms := rankItems([]Item{it}, q)
		if len(items) != len(ms) {
			t.Fatalf("%d items, %d matches", len(items), len(ms))
		}
		var mt *match
		if len(ms) == 1 {
			mt = &ms[0]
			for fl := field(0); fl < nFields; fl++ {
				txt := it.text(fl)
				for _, h := range mt.hits[fl] {
					if h < 0 || h >= len(txt) {
						t.Fatalf("hit %d outside field %d (%d bytes)", h, fl, len(txt))
					}
				}
			}
		}
		ps := layout(routeColumns, w, []Item{it})
		out := row(ps, it, mt, lipgloss.Style{}, hit)
		if gw := ansi.StringWidth(out); gw > w {
			t.Fatalf("row %q is %d columns; want <= %d", out, gw, w)
		}
		if err := termtest.Check(out, true); err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(out) || strings.ContainsRune(out, '\n') {
			t.Fatalf("row %q: invalid UTF-8 or a newline", out)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
