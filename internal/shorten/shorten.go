// Package shorten fits long one-line texts (destinations, URLs) into a
// column by cutting their middle, so both ends stay readable: the desktop
// app's rows and the CLI's screens share it.
//
//	shorten.Destination("tcp+https://proxy.example.com/db.internal:5432", 32)
//	// "tcp+https://pr…/db.internal:5432" (32 runes)
package shorten

import "strings"

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

// minHead is how much of the proxy URL Destination keeps at least.
const minHead = 8

// Destination shortens a tunnel destination to max runes so the place it
// reaches stays readable: its last part (the route's host:port after the
// last "/", or the whole host:port) is kept whole when it fits, with the
// proxy URL before it cut from its end; when even that part is too long,
// its end (the port, the host's last labels) is kept.
func Destination(s string, max int) string {
	r := []rune(s)
	if len(r) <= max || max < 5 {
		return s
	}
	tail := r
	if i := strings.LastIndex(s, "/"); i >= 0 {
		tail = []rune(s[i:]) // "/db.internal:5432"
	}
	if head := max - 1 - len(tail); head >= minHead {
		return string(r[:head]) + Ellipsis + string(tail)
	}
	return Ellipsis + string(r[len(r)-(max-1):])
}
