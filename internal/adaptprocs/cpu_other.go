//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package adaptprocs

import "time"

// processCPU cannot be read here: Start leaves the P count alone.
func processCPU() (time.Duration, bool) { return 0, false }
