package shorten

import "strings"

// Cell is one unit of text as a surface draws it: S its text (a rune for
// the desktop app, an escaped grapheme cluster for the terminal), W its
// width there, At its byte offset in the original string, Mark whether to
// highlight it (carried through untouched).
type Cell struct {
	S    string
	W    int
	At   int
	Mark bool
}

// EllipsisCell marks what was cut.
var EllipsisCell = Cell{S: Ellipsis, W: 1, At: -1}

// Runes is s as cells of one rune each, one unit wide.
func Runes(s string) []Cell {
	out := make([]Cell, 0, len(s))
	for i, r := range s {
		out = append(out, Cell{S: string(r), W: 1, At: i})
	}
	return out
}

// Join is the text of cs.
func Join(cs []Cell) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.S)
	}
	return b.String()
}

// Width is how wide cs is.
func Width(cs []Cell) int {
	n := 0
	for _, c := range cs {
		n += c.W
	}
	return n
}

// Index is the index of the first cell starting at or after byte off.
func Index(cs []Cell, off int) int {
	for i, c := range cs {
		if c.At >= off {
			return i
		}
	}
	return len(cs)
}

// End keeps the head of cs that fits in w, ending in an ellipsis when
// something was cut.
func End(cs []Cell, w int) []Cell {
	if Width(cs) <= w {
		return cs
	}
	if w <= 0 {
		return nil
	}
	out := make([]Cell, 0, w)
	used := 0
	for _, c := range cs {
		if used+c.W > w-1 {
			break
		}
		out = append(out, c)
		used += c.W
	}
	return append(out, EllipsisCell)
}

// Start keeps the tail of cs that fits in w, starting with an ellipsis
// when something was cut.
func Start(cs []Cell, w int) []Cell {
	if Width(cs) <= w {
		return cs
	}
	if w <= 0 {
		return nil
	}
	used, i := 0, len(cs)
	for i > 0 && used+cs[i-1].W <= w-1 {
		i--
		used += cs[i].W
	}
	return append([]Cell{EllipsisCell}, cs[i:]...)
}

// Around shortens cs to w keeping cs[a:b] (the destination) whole when it
// fits: what precedes it is cut after its head (the scheme and proxy
// stay), what follows it is cut at the end. When even the kept part does
// not fit, it alone is cut in its middle, its tail holding at least the
// port: its head names the service, the port tells routes to one host
// apart.
func Around(cs []Cell, w, a, b int) []Cell {
	if Width(cs) <= w {
		return cs
	}
	if w <= 0 {
		return nil
	}
	a, b = max(0, min(a, len(cs))), max(0, min(b, len(cs)))
	if a >= b {
		return End(cs, w)
	}
	// A path-form destination keeps the slash before it when there is
	// room for it and an ellipsis: tcp+https://pr…/db:5432.
	if a > 1 && cs[a-1].S == "/" && cs[a-2].S != "/" && Width(cs[a:b])+2 <= w {
		a--
	}
	pre, keep, post := cs[:a], cs[a:b], cs[b:]
	kw, pw := Width(keep), Width(pre)
	if pw+kw < w { // only what follows is cut
		out := append(append([]Cell{}, pre...), keep...)
		return append(out, End(post, w-pw-kw)...)
	}
	room := w - kw
	if len(post) > 0 {
		room-- // its ellipsis
	}
	var out []Cell
	switch {
	case len(pre) == 0 && room >= 0:
		out = append(out, keep...)
	case room >= 1: // the head as far as it goes, then the ellipsis (pre never fits whole here)
		out = append(End(pre, room), keep...)
	default:
		return middle(keep, w)
	}
	if len(post) > 0 {
		out = append(out, EllipsisCell)
	}
	return out
}

// DestSpan is where the destination sits in a from value or saved
// destination, in bytes: the last path segment of a path-form route
// (tcp+https://proxy/db:5432 -> db:5432, with any trailing slash), else
// the authority (tcp+https://db.example.com:5432, https://grafana.example.com/x
// -> the host:port); without a scheme, the last path segment or the whole
// (db.example.com:5432).
func DestSpan(from string) (a, b int) {
	off := 0
	if i := strings.Index(from, "://"); i >= 0 {
		off = i + 3
	}
	rest := from[off:]
	auth := rest
	slash := strings.IndexByte(rest, '/')
	if slash >= 0 {
		auth = rest[:slash]
	}
	if slash >= 0 && (off == 0 || isTunnelScheme(from)) {
		path := strings.TrimRight(rest[slash:], "/")
		if j := strings.LastIndexByte(path, '/'); j >= 0 && j < len(path)-1 {
			return off + slash + j + 1, len(from)
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

// middle cuts cs to w in its middle: half head, half tail, the tail at
// least from the last ':' (the port) when that fits.
func middle(cs []Cell, w int) []Cell {
	if Width(cs) <= w {
		return cs
	}
	tailW := w - 1 - (w-1)/2
	port := 0
	for i := len(cs) - 1; i >= 0; i-- {
		port += cs[i].W
		if cs[i].S == ":" {
			break
		}
		if i == 0 {
			port = 0
		}
	}
	if port <= w-1 {
		tailW = max(tailW, port)
	}
	tail := Start(append([]Cell{{W: tailW + 1}}, cs...), tailW+1)[1:]
	head := End(cs, w-Width(tail))
	if len(head) > 0 && head[len(head)-1] == EllipsisCell {
		return append(head, tail...)
	}
	return append(append(head, EllipsisCell), tail...)
}
