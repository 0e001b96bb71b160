// Package bytesize is the one way byte counts are written for people:
// binary units (5 B, 8.8 KiB, 64 MiB), in the CLI's messages, the route
// picker, the desktop app's log and tunnel events alike.
package bytesize

import "strconv"

var units = [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Format writes n bytes for people: under 10 of a unit with one decimal,
// else whole (rounded to the nearest tenth first, so 10239 B is 10 KiB);
// a negative count (never meant) is 0 B.
func Format(n int64) string {
	if n < 0 {
		n = 0
	}
	if n < 10 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, e := float64(n), 0
	for v >= 1024 && e < len(units)-1 {
		v /= 1024
		e++
	}
	v = float64(int64(v*10+0.5)) / 10
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[e]
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[e]
}
