// Package streamcopy copies between a tunnel's two ends with buffers that
// are borrowed from a pool only while bytes flow, so an idle connection
// holds no copy buffer (a thousand idle tunnels would otherwise pin
// 64 KiB or more each).
package streamcopy

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/porthole-dev/porthole/internal/bufpool"
	"github.com/porthole-dev/porthole/internal/sockio"
)

// BufSize is the size of a pooled buffer: large enough that a bulk stream
// costs few reads and writes.
const BufSize = 64 << 10

// smallSize is what a reader that cannot say "data is waiting" (TLS, an
// HTTP/2 body) blocks on: most messages fit, and a full one borrows a
// pooled buffer for the rest.
const smallSize = 1 << 10

var pool = bufpool.New(func() *[]byte { b := make([]byte, BufSize); return &b })

// LargeBufSize is CopyLarge's buffer: for a destination where every
// Write costs a fixed hand-off (the server's HTTP/2 response stream waits
// for each write to reach the wire), fewer and larger writes.
const LargeBufSize = 256 << 10

var largePool = bufpool.New(func() *[]byte { b := make([]byte, LargeBufSize); return &b })

// Result says how a copy ended.
type Result struct {
	N       int64 // bytes written to dst
	ReadErr error // nil when src ended with io.EOF
	// WriteErr is the error writing to dst (nil if every write worked).
	WriteErr error
}

// Err is the first failure, or nil after a clean EOF.
func (r Result) Err() error { return errors.Join(r.ReadErr, r.WriteErr) }

// Copy copies src to dst until src ends or a write fails, calling
// progress (when not nil) with each chunk's size after it is written.
func Copy(dst io.Writer, src io.Reader, progress func(int)) Result {
	return copyWith(dst, src, progress, pool)
}

// CopyLarge is Copy reading a TCP source up to LargeBufSize at a time.
func CopyLarge(dst io.Writer, src io.Reader, progress func(int)) Result {
	return copyWith(dst, src, progress, largePool)
}

func copyWith(dst io.Writer, src io.Reader, progress func(int), bufs *bufpool.Pool) Result {
	if tc, ok := src.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			return copyFD(dst, rc, progress, bufs)
		}
	}
	return copySmallFirst(dst, src, progress, bufs)
}

// copyFD waits for the socket to be readable without a buffer and reads
// into a pooled one only once data is there.
func copyFD(dst io.Writer, rc syscall.RawConn, progress func(int), pool *bufpool.Pool) Result {
	var res Result
	// One callback for the whole copy: a closure per read would allocate.
	var bp *[]byte
	var n int
	var rerr error
	read := func(fd uintptr) bool {
		if bp == nil {
			bp = pool.Get()
		}
		n, rerr = sockio.RawRead(int(fd), *bp)
		if rerr == syscall.EAGAIN {
			pool.Put(bp)
			bp = nil
			return false
		}
		return true
	}
	for {
		n, rerr = 0, nil
		err := rc.Read(read)
		if err == nil && rerr != nil {
			err = &net.OpError{Op: "read", Net: "tcp", Err: rerr}
		}
		var werr error
		if n > 0 {
			werr = write(dst, (*bp)[:n], &res, progress)
		}
		if bp != nil {
			pool.Put(bp)
			bp = nil
		}
		switch {
		case werr != nil:
			return res
		case err != nil:
			res.ReadErr = err
			return res
		case n <= 0:
			return res // EOF
		}
	}
}

// copySmallFirst blocks on a small buffer and borrows a pooled one once a
// read fills it (a busy stream: more is likely coming), keeping it while
// reads return more than the small one holds (a TLS connection returns
// one record, at most 16 KiB, a read) and giving it back after a small
// read (an idle or interactive stream holds none). What a read returns is
// written before the next read starts: the peer may be waiting for an
// answer to exactly those bytes, so holding them back for a fuller read
// would deadlock an exchange whose message happens to fill the buffer.
func copySmallFirst(dst io.Writer, src io.Reader, progress func(int), pool *bufpool.Pool) Result {
	var res Result
	small := make([]byte, smallSize)
	var bp *[]byte
	defer func() {
		if bp != nil {
			pool.Put(bp)
		}
	}()
	for {
		buf := small
		if bp != nil {
			buf = *bp
		}
		n, err := src.Read(buf)
		if n > 0 {
			if werr := write(dst, buf[:n], &res, progress); werr != nil {
				return res
			}
		}
		switch {
		case bp == nil && n == len(small):
			bp = pool.Get()
		case bp != nil && n < len(small):
			pool.Put(bp)
			bp = nil
		}
		if err == io.EOF {
			return res
		}
		if err != nil {
			res.ReadErr = err
			return res
		}
	}
}

func write(dst io.Writer, p []byte, res *Result, progress func(int)) error {
	w, err := dst.Write(p)
	res.N += int64(w)
	if progress != nil && w > 0 {
		progress(w)
	}
	if err == nil && w < len(p) {
		err = io.ErrShortWrite
	}
	res.WriteErr = err
	return err
}
