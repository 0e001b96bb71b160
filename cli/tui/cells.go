package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/rivo/uniseg"

	"github.com/porthole-dev/porthole/internal/shorten"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// maxField caps how much of one field (name, from, description, tags) the
// picker matches and draws: a hostile portal may send megabytes, and no
// terminal shows more than a few hundred columns of it.
const maxField = 2048

// clip keeps the head and the tail of an oversized field (the tail of a
// from value is its destination) around an ellipsis.
func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	return s[:maxField/2] + "…" + s[len(s)-maxField/2:]
}

// cell is one grapheme cluster of data as the screen shows it: spelt out
// by termtext (so nothing in it is a control), its width in columns, where
// it starts in the raw string, and whether the filter matched it (Mark).
// The cutting itself is internal/shorten's, shared with the desktop app.
type cell = shorten.Cell

const ellipsis = shorten.Ellipsis

var ellipsisCell = shorten.EllipsisCell

// toCells splits raw into escaped grapheme clusters; hits are the raw byte
// offsets the filter matched (any order). Clusters, not runes, so a wide
// emoji with its variation selector is measured as the terminal draws it.
func toCells(raw string, hits []int) []cell {
	hit := make(map[int]bool, len(hits))
	for _, h := range hits {
		hit[h] = true
	}
	out := make([]cell, 0, len(raw))
	state := -1
	for at := 0; at < len(raw); {
		cluster, _, _, st := uniseg.FirstGraphemeClusterInString(raw[at:], state)
		state = st
		if cluster == "" { // cannot happen for a non-empty string; never loop
			cluster = raw[at : at+1]
		}
		c := cell{S: termtext.Escape(cluster), At: at}
		c.W = ansi.StringWidth(c.S)
		for i := at; i < at+len(cluster); i++ {
			if hit[i] {
				c.Mark = true
				break
			}
		}
		out = append(out, c)
		at += len(cluster)
	}
	return out
}

func cellsWidth(cs []cell) int                { return shorten.Width(cs) }
func truncEnd(cs []cell, w int) []cell        { return shorten.End(cs, w) }
func fitMiddle(cs []cell, w, a, b int) []cell { return shorten.Around(cs, w, a, b) }
func cellIndex(cs []cell, off int) int        { return shorten.Index(cs, off) }
func destSpan(from string) (a, b int)         { return shorten.DestSpan(from) }

// renderCells draws cs: base around plain runs, hit around matched ones;
// every piece is already escaped, so styles are the only raw escapes.
func renderCells(cs []cell, base, hit lipgloss.Style) string {
	var b, run strings.Builder
	cur := false
	flush := func() {
		if run.Len() == 0 {
			return
		}
		st := base
		if cur {
			st = hit.Inherit(base)
		}
		b.WriteString(st.Render(run.String()))
		run.Reset()
	}
	for _, c := range cs {
		if c.Mark != cur {
			flush()
			cur = c.Mark
		}
		run.WriteString(c.S)
	}
	flush()
	return b.String()
}

// pad fills s, which is n columns wide, with spaces to w columns.
func pad(s string, n, w int) string {
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}

// ShortenFrom is how a route's from value is shown in w columns: escaped
// by termtext, cut in the middle so the destination host:port stays
// visible (tcp+https://proxy.example.com/db.internal:5432 becomes
// tcp+https://pr…/db.internal:5432), and at most w columns wide.
func ShortenFrom(from string, w int) string {
	from = clip(from)
	cs := toCells(from, nil)
	a, b := destSpan(from)
	return shorten.Join(fitMiddle(cs, w, cellIndex(cs, a), cellIndex(cs, b)))
}
