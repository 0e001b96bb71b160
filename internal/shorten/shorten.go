// Package shorten fits long one-line texts (destinations, URLs) into a
// column by cutting their middle, so both ends stay readable: the desktop
// app's rows and the CLI's screens share it.
//
//	shorten.Destination("tcp+https://proxy.example.com/db.internal:5432", 32)
//	// "tcp+https://pr…/db.internal:5432"
package shorten

// Ellipsis marks what was cut.
const Ellipsis = "…"

// Middle keeps s to at most max runes by replacing its middle with "…".
// Strings that fit, and a max under 5, are returned as they are.
func Middle(s string, max int) string {
	r := []rune(s)
	if len(r) <= max || max < 5 {
		return s
	}
	head := (max - 1) / 2
	tail := max - 1 - head
	return string(r[:head]) + Ellipsis + string(r[len(r)-tail:])
}

// Destination shortens a tunnel destination to max runes, keeping the
// place it reaches (the route's host:port after the last "/", or the
// whole host:port) whole when it fits: the proxy URL before it is cut
// after its head. A host:port too long for max keeps its tail, port
// included. The same cut as the terminal picker's (Around, DestSpan),
// counted in runes.
func Destination(s string, max int) string {
	cs := Runes(s)
	a, b := DestSpan(s)
	return Join(Around(cs, max, Index(cs, a), Index(cs, b)))
}
