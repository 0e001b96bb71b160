package tui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/porthole-dev/porthole/internal/shorten"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// column is one column of a tab's table.
type column struct {
	title string
	f     field
	min   int // narrower than this, the column is dropped
	// soft caps the column's share while columns of lower priority still
	// want room (0: none): NAME does not take the whole width from FROM.
	soft func(avail int) int
	prio int  // lower is dropped later on a narrow terminal
	dest bool // a from value: cut in the middle, room for the destination first
	// hideEmpty leaves the column out while no row has anything in it.
	hideEmpty bool
	// need is what the column asks for before any other grows: the
	// destination (and an ellipsis) for a from column, else at least min.
	need int
}

func fixed(n int) func(int) int { return func(int) int { return n } }

// share is pct of the width, at most upTo columns (0: no limit).
func share(pct, upTo int) func(int) int {
	return func(avail int) int {
		n := avail * pct / 100
		if upTo > 0 {
			n = min(n, upTo)
		}
		return n
	}
}

func (c column) capAt(avail int) int { // the first round's limit
	if c.soft == nil {
		return avail
	}
	return max(c.min, c.soft(avail))
}

// The columns in the order shown; a narrow terminal drops the highest
// prio first, so the name and the destination stay longest.
var (
	routeColumns = []column{
		{title: "NAME", f: fName, min: 8, need: 12, soft: share(25, 28), prio: 0},
		{title: "TYPE", f: fType, min: 4, soft: fixed(4), prio: 2},
		{title: "FROM", f: fFrom, min: 12, soft: share(45, 0), prio: 1, dest: true},
		{title: "DESCRIPTION", f: fDesc, min: 11, prio: 3},
		{title: "STATUS", f: fStatus, min: 6, need: 24, soft: fixed(24), prio: 4, hideEmpty: true},
	}
	savedColumns = []column{
		{title: "NAME", f: fName, min: 8, need: 12, soft: share(25, 28), prio: 0},
		{title: "TYPE", f: fType, min: 4, soft: fixed(4), prio: 5},
		{title: "LISTEN ADDRESS", f: fListen, min: 14, need: 21, soft: fixed(22), prio: 2},
		{title: "DESTINATION", f: fFrom, min: 12, soft: share(40, 0), prio: 1, dest: true},
		{title: "TAGS", f: fTags, min: 6, prio: 4},
		// how a tunnel opened here ended; shown once there is one
		{title: "STATUS", f: fStatus, min: 6, need: 24, soft: fixed(24), prio: 3, hideEmpty: true},
	}
)

// placed is a column given its width on this screen.
type placed struct {
	column
	w int
}

// maxDestMin bounds how much a from column insists on for its
// destination before it gives way to the name.
const maxDestMin = 40

// layout sizes cols to avail columns (the row without its cursor mark),
// one space apart, for rows items. Columns that cannot have their minimum
// are dropped, least important (highest prio) first, and so are those less
// important than FROM while its destinations do not fit. Then the widths
// grow: FROM to most of its destinations, the others to what they need,
// then by priority each within its soft cap, and each to its widest cell
// with what is left.
func layout(cols []column, avail int, items []Item) []placed {
	var ps []placed
	for _, c := range cols {
		want := ansi.StringWidth(c.title)
		var dests []int
		empty := true
		for _, it := range items {
			t := it.text(c.f)
			empty = empty && t == ""
			want = max(want, ansi.StringWidth(termtext.Escape(t)))
			if c.dest {
				a, b := destSpan(t)
				dests = append(dests, ansi.StringWidth(termtext.Escape(t[a:b])))
			}
		}
		if c.hideEmpty && empty {
			continue
		}
		c.min = min(c.min, want)
		c.need = min(max(c.need, c.min), want)
		if c.dest && len(dests) > 0 {
			// Room for most rows' destinations with the ellipsis and slash
			// before them; one odd long one is cut, not every other column.
			sort.Ints(dests)
			c.need = min(max(c.min, dests[len(dests)*3/4]+2), maxDestMin, want)
		}
		ps = append(ps, placed{column: c, w: want})
	}
	sum := func(ps []placed, of func(placed) int) int {
		n := len(ps) - 1
		for _, p := range ps {
			n += of(p)
		}
		return n
	}
	mins := func(p placed) int { return p.min }
	needs := func(p placed) int { return p.need }
	// Drop the least important column while the minimums do not fit, and
	// while the destinations do not, columns less important than them.
	destPrio := len(ps)
	for _, p := range ps {
		if p.dest {
			destPrio = min(destPrio, p.prio)
		}
	}
	for len(ps) > 1 {
		drop := 0
		for i, p := range ps {
			if p.prio > ps[drop].prio {
				drop = i
			}
		}
		if sum(ps, mins) <= avail && (sum(ps, needs) <= avail || ps[drop].prio <= destPrio) {
			break
		}
		ps = append(ps[:drop:drop], ps[drop+1:]...)
	}
	wants := make([]int, len(ps))
	for i := range ps {
		wants[i], ps[i].w = ps[i].w, ps[i].min
	}
	if len(ps) == 1 {
		ps[0].w = max(0, min(wants[0], avail))
		return ps
	}
	left := avail - sum(ps, mins)
	order := byPrio(ps)
	destFirst := append([]int{}, order...)
	sort.SliceStable(destFirst, func(i, j int) bool { return ps[destFirst[i]].dest && !ps[destFirst[j]].dest })
	for round := 0; round < 3 && left > 0; round++ {
		o := order // within the soft caps, by priority
		if round != 1 {
			o = destFirst
		}
		for _, i := range o {
			limit := wants[i]
			switch round {
			case 0:
				limit = ps[i].need
			case 1:
				limit = min(limit, ps[i].capAt(avail))
			}
			if grow := min(left, limit-ps[i].w); grow > 0 {
				ps[i].w += grow
				left -= grow
			}
		}
	}
	return ps
}

func byPrio(ps []placed) []int {
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort: a handful of columns
		for j := i; j > 0 && ps[order[j]].prio < ps[order[j-1]].prio; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

// header draws the titles of ps.
func header(ps []placed) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		cs := truncEnd(toCells(p.title, nil), p.w)
		parts[i] = pad(shorten.Join(cs), cellsWidth(cs), p.w)
	}
	return strings.TrimRight(strings.Join(parts, " "), " ")
}

// row draws one item in ps: every field escaped, matched characters in
// hit, from values cut in the middle, exactly as wide as the columns.
func row(ps []placed, it Item, m *match, base, hit lipgloss.Style) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		t := it.text(p.f)
		var hits []int
		if m != nil {
			hits = m.hits[p.f]
		}
		cs := toCells(t, hits)
		if p.dest {
			a, b := destSpan(t)
			cs = fitMiddle(cs, p.w, cellIndex(cs, a), cellIndex(cs, b))
		} else {
			cs = fitAround(cs, p.w)
		}
		s := renderCells(cs, base, hit)
		if i < len(ps)-1 {
			s = pad(s, cellsWidth(cs), p.w)
		}
		parts[i] = s
	}
	return strings.TrimRight(strings.Join(parts, " "), " ")
}

// fitAround is truncEnd, unless that would cut away every character the
// filter matched: then the text is cut before them too, so the match
// shows ("…the db replica").
func fitAround(cs []cell, w int) []cell {
	out := truncEnd(cs, w)
	first := -1
	for i, c := range cs {
		if c.Mark {
			first = i
			break
		}
	}
	if first < 0 || first < len(out)-1 || len(out) == len(cs) {
		return out
	}
	start := max(first-1, 0) // a character of context before the match
	return truncEnd(append([]cell{ellipsisCell}, cs[start:]...), w)
}
