package sockio

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RawRead is read(2) on a non-blocking socket without the scheduler's
// system-call bookkeeping (see the package doc), retried when a signal
// interrupted it. It returns -1 and the errno on failure, as
// syscall.Read does.
func RawRead(fd int, p []byte) (int, error) {
	for {
		n, err := read(fd, p)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// RawWrite is write(2) likewise.
func RawWrite(fd int, p []byte) (int, error) {
	for {
		n, err := write(fd, p)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// inq is the number of bytes received and not yet read (SIOCINQ).
func inq(fd int) (int, error) {
	var v int32
	_, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(unix.SIOCINQ), uintptr(unsafe.Pointer(&v)))
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}

// maxRW bounds one read or write, as package net does.
const maxRW = 1 << 30

// Conn is a TCP connection whose Read and Write are RawRead and RawWrite,
// waiting in the poller as net.TCPConn does: same deadlines, same ends
// and the same errors. Everything else is the *net.TCPConn's.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// Wrap is c as a Conn when it is a *net.TCPConn, else c.
func Wrap(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &Conn{TCPConn: tc, rc: rc}
}

// TCP is the *net.TCPConn under c (a Conn or one itself), or nil.
func TCP(c net.Conn) *net.TCPConn {
	switch v := c.(type) {
	case *net.TCPConn:
		return v
	case *Conn:
		return v.TCPConn
	}
	return nil
}

// SyscallConn is the raw connection Wrap took once, not a new one each
// call as the *net.TCPConn's would be.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		n, rerr = RawRead(int(fd), p[:min(len(p), maxRW)])
		return rerr != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case rerr != nil:
		return 0, c.opError("read", os.NewSyscallError("read", rerr))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *Conn) Write(p []byte) (int, error) {
	var n int
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := RawWrite(int(fd), p[n:min(len(p), n+maxRW)])
			switch e {
			case nil:
				n += m
			case syscall.EAGAIN:
				return false
			default:
				werr = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return n, c.opError("write", err)
	case werr != nil:
		return n, c.opError("write", os.NewSyscallError("write", werr))
	}
	return n, nil
}

// opError is err as net.TCPConn reports it: the RawConn's own errors
// name the operation "raw-read" or "raw-write".
func (c *Conn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
