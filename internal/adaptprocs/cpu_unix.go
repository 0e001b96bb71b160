//go:build linux || darwin || freebsd || netbsd || openbsd

package adaptprocs

import (
	"syscall"
	"time"
)

// processCPU is the user and system time of all the process's threads.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
