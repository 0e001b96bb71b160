// Package shorten fits long one-line texts (destinations, URLs) into a
// column by cutting their middle, so both ends stay readable: the desktop
// app's rows and the CLI's screens share it.
//
//	shorten.Destination("tcp+https://proxy.example.com/db.internal:5432", 32)
//	// "tcp+https://pr…/db.internal:5432"
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

// Destination shortens a tunnel destination to max runes, keeping its
// last part (the route's host:port after the last "/", or the whole
// host:port) whole when it fits, so the place it reaches stays readable:
// the proxy URL before it is cut from its end. A host:port too long for
// max is cut in its middle, which keeps the port.
func Destination(s string, max int) string {
	r := []rune(s)
	if len(r) <= max || max < 5 {
		return s
	}
	i := strings.LastIndex(s, "/")
	if i < 0 {
		return Middle(s, max)
	}
	tail := []rune(s[i:]) // "/db.internal:5432"
	head := max - 1 - len(tail)
	if head < minHead {
		return Middle(s, max)
	}
	return string(r[:head]) + Ellipsis + string(tail)
}
