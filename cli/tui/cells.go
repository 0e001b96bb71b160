package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/rivo/uniseg"

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
// by termtext (so nothing in it is a control), with its width in columns,
// where it starts in the raw string, and whether the filter matched it.
type cell struct {
	s   string
	w   int
	at  int
	hit bool
}

const ellipsis = "…"

var ellipsisCell = cell{s: ellipsis, w: 1, at: -1}

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
		c := cell{s: termtext.Escape(cluster), at: at}
		c.w = ansi.StringWidth(c.s)
		for i := at; i < at+len(cluster); i++ {
			if hit[i] {
				c.hit = true
				break
			}
		}
		out = append(out, c)
		at += len(cluster)
	}
	return out
}

func cellsWidth(cs []cell) int {
	n := 0
	for _, c := range cs {
		n += c.w
	}
	return n
}

// truncEnd keeps the head of cs that fits in w columns, ending in an
// ellipsis when something was cut.
func truncEnd(cs []cell, w int) []cell {
	if cellsWidth(cs) <= w {
		return cs
	}
	if w <= 0 {
		return nil
	}
	out := make([]cell, 0, w)
	used := 0
	for _, c := range cs {
		if used+c.w > w-1 {
			break
		}
		out = append(out, c)
		used += c.w
	}
	return append(out, ellipsisCell)
}

// truncStart keeps the tail of cs that fits in w columns, starting with an
// ellipsis when something was cut.
func truncStart(cs []cell, w int) []cell {
	if cellsWidth(cs) <= w {
		return cs
	}
	if w <= 0 {
		return nil
	}
	used, i := 0, len(cs)
	for i > 0 && used+cs[i-1].w <= w-1 {
		i--
		used += cs[i].w
	}
	return append([]cell{ellipsisCell}, cs[i:]...)
}

// fitMiddle shortens cs to w columns keeping cs[a:b] (the destination)
// whole when it fits: what precedes it is cut in its middle-to-end part
// (its head, the scheme and proxy, stays), what follows it is cut at the
// end. When even the kept part does not fit, its tail stays (a port is
// what tells routes to one host apart).
func fitMiddle(cs []cell, w, a, b int) []cell {
	if cellsWidth(cs) <= w {
		return cs
	}
	if w <= 0 {
		return nil
	}
	a, b = max(0, min(a, len(cs))), max(0, min(b, len(cs)))
	if a >= b {
		return truncEnd(cs, w)
	}
	// A path-form destination keeps the slash before it when there is
	// room for it and an ellipsis: tcp+https://pr…/db:5432.
	if a > 1 && cs[a-1].s == "/" && cs[a-2].s != "/" && cellsWidth(cs[a:b])+2 <= w {
		a--
	}
	pre, keep, post := cs[:a], cs[a:b], cs[b:]
	kw, pw := cellsWidth(keep), cellsWidth(pre)
	if pw+kw < w { // only what follows is cut
		out := append(append([]cell{}, pre...), keep...)
		return append(out, truncEnd(post, w-pw-kw)...)
	}
	room := w - kw
	if len(post) > 0 {
		room-- // its ellipsis
	}
	var out []cell
	switch {
	case len(pre) == 0 && room >= 0:
		out = append(out, keep...)
	case room >= 1: // the head as far as it goes, then the ellipsis (pre never fits whole here)
		out = append(truncEnd(pre, room), keep...)
	default: // the tail of the destination after an ellipsis
		return truncStart(append([]cell{{w: w + 1}}, keep...), w)
	}
	if len(post) > 0 {
		out = append(out, ellipsisCell)
	}
	return out
}

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
		if c.hit != cur {
			flush()
			cur = c.hit
		}
		run.WriteString(c.s)
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
	out := fitMiddle(cs, w, cellIndex(cs, a), cellIndex(cs, b))
	var sb strings.Builder
	for _, c := range out {
		sb.WriteString(c.s)
	}
	return sb.String()
}

// cellIndex is the index of the first cell starting at or after byte off.
func cellIndex(cs []cell, off int) int {
	for i, c := range cs {
		if c.at >= off {
			return i
		}
	}
	return len(cs)
}

// destSpan is where the destination sits in a from value, in bytes: the
// last path segment of a path-form route (tcp+https://proxy/db:5432 ->
// db:5432), else the authority
// (tcp+https://db.example.com:5432, https://grafana.example.com/x ->
// the host:port). a == b when nothing looks like one.
func destSpan(from string) (a, b int) {
	i := strings.Index(from, "://")
	if i < 0 {
		return 0, 0
	}
	off := i + 3
	rest := from[off:]
	auth := rest
	slash := strings.IndexByte(rest, '/')
	if slash >= 0 {
		auth = rest[:slash]
	}
	if slash >= 0 && isTunnelScheme(from) {
		path := strings.TrimRight(rest[slash:], "/")
		if j := strings.LastIndexByte(path, '/'); j >= 0 && j < len(path)-1 {
			return off + slash + j + 1, len(from) // with any trailing slash
		}
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 { // userinfo is not the destination
		off += at + 1
		auth = auth[at+1:]
	}
	return off, off + len(auth)
}

func isTunnelScheme(from string) bool {
	l := strings.ToLower(from)
	return strings.HasPrefix(l, "tcp+") || strings.HasPrefix(l, "udp+")
}
