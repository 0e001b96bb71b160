// Package bytesize is the one way byte counts are written for people:
// binary units as go-humanize writes them (5 B, 8.8 KiB, 64 MiB), in the
// CLI's messages, the route picker, the desktop app's log and tunnel
// events alike.
package bytesize

import "github.com/dustin/go-humanize"

// Format writes n bytes for people; a negative count (never meant) is 0 B.
func Format(n int64) string {
	if n < 0 {
		n = 0
	}
	return humanize.IBytes(uint64(n))
}
