package cmdutil

import "github.com/porthole-dev/porthole/internal/bytesize"

// Bytes is the one byte format of pomerium-cli's messages and screens
// (internal/bytesize: 5 B, 8.8 KiB, 64 MiB).
func Bytes(n int64) string { return bytesize.Format(n) }
