//go:build !race

package sockio

import "syscall"

// read is read(2) without the scheduler's system-call bookkeeping (see
// the package doc). It returns -1 and the errno on failure, as
// syscall.Read does.
func read(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// write is write(2) likewise.
func write(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// raceEnabled reports a race build, whose reads and writes go through
// package syscall instead of the raw calls.
const raceEnabled = false
