//go:build race

package sockio

import "syscall"

// Under the race detector, package syscall's calls: they tell the
// detector that data written to a socket happens before it is read back,
// which the raw calls cannot.

func read(fd int, p []byte) (int, error) { return syscall.Read(fd, p) }

func write(fd int, p []byte) (int, error) { return syscall.Write(fd, p) }

// raceEnabled reports a race build.
const raceEnabled = true
