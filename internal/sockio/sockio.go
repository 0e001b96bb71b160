// Package sockio reads and writes a TCP socket without waiting and
// without holding a buffer while it is idle: the HTTP/2 data paths of the
// client and the server write a frame's payload straight to the socket
// when it takes it at once, and take a buffer only once there is data to
// read into it. Conn is a net.TCPConn that reads and writes the same way
// underneath TLS.
//
// Every read and write here is a raw system call (RawRead, RawWrite):
// the scheduler is not told that a system call began. A read or write on
// a non-blocking socket returns at once, with EAGAIN when it would wait
// (the poller does the waiting), so there is nothing to hand off; but a
// copy of a large buffer takes tens of microseconds, and with package
// syscall's bookkeeping Go's sysmon thread took the P away from every
// such call it caught (it polls every 20 µs while a process is busy),
// woke another thread to run the P, and had the first find a P again on
// its return. On a two-CPU machine that was about 40% of the client's and
// the server's context switches in a bulk transfer, and about a tenth of
// their CPU per GiB. Only package net's TCP sockets (always non-blocking)
// go through here: a raw call on a blocking descriptor would stall its P.
package sockio

import (
	"io"
	"net"
	"os"
	"syscall"
)

// Pool hands out the buffers ReadReady reads into.
type Pool interface {
	Get() *[]byte
	Put(*[]byte)
}

// ReadReady waits until rc has data, then reads up to max bytes of it
// into a buffer from pool at offset off (room for a frame header in
// front). *bp is set only while it holds data; a buffer taken for a read
// that found none goes back. n == 0 with no error never happens: the end
// is io.EOF.
func ReadReady(rc syscall.RawConn, pool Pool, bp **[]byte, off, max int) (int, error) {
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		if *bp == nil {
			*bp = pool.Get()
		}
		n, rerr = RawRead(int(fd), (**bp)[off:off+max])
		if rerr == syscall.EAGAIN {
			pool.Put(*bp)
			*bp = nil
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// WriteNow writes as much of p to rc as the socket takes without
// waiting, and returns how much that was; err is a failed socket.
func WriteNow(rc syscall.RawConn, p []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		n, werr = RawWrite(int(fd), p)
		return true
	})
	if err == nil && werr != nil && werr != syscall.EAGAIN {
		err = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", werr)}
	}
	if err != nil {
		return 0, err
	}
	return max(n, 0), nil
}

// ReadAvailable reads, without waiting, up to len(p) of the bytes rc has
// received already (0: none). It reads only when the kernel holds data
// (SIOCINQ), so an end or a pending error is never consumed here: the
// caller's next usual read still sees it.
func ReadAvailable(rc syscall.RawConn, p []byte) int {
	var n int
	_ = rc.Control(func(fd uintptr) {
		avail, err := inq(int(fd))
		if err != nil || avail <= 0 || len(p) == 0 {
			return
		}
		if m, err := RawRead(int(fd), p[:min(avail, len(p))]); err == nil && m > 0 {
			n = m
		}
	})
	return n
}
