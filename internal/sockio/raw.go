package sockio

import (
	"io"
	"net"
	"os"
	"sync"
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

	// One read and one write at a time each, as on any net.Conn (the
	// poller serializes them too): their state lives here, and the
	// functions handed to the RawConn are made once, in Wrap. A closure
	// per call cost three allocations per system call, about half of all
	// the allocations of a bulk transfer under TLS.
	rmu, wmu sync.Mutex
	rd, wr   rawOp
}

// rawOp is one Read's or Write's buffer and result.
type rawOp struct {
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// read is the RawConn's function for Read: done unless the socket is
// empty.
func (o *rawOp) read(fd uintptr) bool {
	o.n, o.err = RawRead(int(fd), o.p)
	return o.err != syscall.EAGAIN
}

// write is Write's: all of p, waiting in the poller while the socket is
// full.
func (o *rawOp) write(fd uintptr) bool {
	for o.n < len(o.p) {
		m, e := RawWrite(int(fd), o.p[o.n:min(len(o.p), o.n+maxRW)])
		switch e {
		case nil:
			o.n += m
		case syscall.EAGAIN:
			return false
		default:
			o.err = e
			return true
		}
	}
	return true
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
	sc := &Conn{TCPConn: tc, rc: rc}
	sc.rd.fn, sc.wr.fn = sc.rd.read, sc.wr.write
	return sc
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
	c.rmu.Lock()
	c.rd.p, c.rd.n, c.rd.err = p[:min(len(p), maxRW)], 0, nil
	err := c.rc.Read(c.rd.fn)
	n, rerr := c.rd.n, c.rd.err
	c.rd.p = nil // the caller's buffer is not kept
	c.rmu.Unlock()
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
	c.wmu.Lock()
	c.wr.p, c.wr.n, c.wr.err = p, 0, nil
	err := c.rc.Write(c.wr.fn)
	n, werr := c.wr.n, c.wr.err
	c.wr.p = nil
	c.wmu.Unlock()
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
