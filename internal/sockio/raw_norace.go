//go:build !race

package sockio

import "syscall"

// RawRead is read(2) on a non-blocking socket without the scheduler's
// system-call bookkeeping (see the package doc). It returns -1 and the
// errno on failure, as syscall.Read does.
func RawRead(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// RawWrite is write(2) likewise.
func RawWrite(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
