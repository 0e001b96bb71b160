package cmdutil

import "github.com/dustin/go-humanize"

// Bytes is the one byte format of pomerium-cli's messages and screens:
// binary units as go-humanize writes them (5 B, 8.8 KiB, 64 MiB).
func Bytes(n int64) string {
	if n < 0 {
		n = 0
	}
	return humanize.IBytes(uint64(n))
}
