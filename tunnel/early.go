package tunnel

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/porthole-dev/porthole/internal/sockio"
)

// maxEarly bounds the local bytes an HTTP/2 CONNECT carries before the
// proxy has answered.
const maxEarly = 64 << 10

// earlyData lets an HTTP/2 CONNECT stream carry the local connection's
// first bytes right behind its HEADERS, before the proxy answers (one
// round trip less to the first byte). It keeps a copy until the proxy
// accepts, so an attempt the proxy refuses (sign-in needed, a dead shared
// connection) replays them on the next one. The proxy never forwards
// anything before it has authorized the stream.
type earlyData struct {
	local  *sockio.Conn // the local TCP connection, read with raw calls
	replay []byte       // read from local, not yet accepted by the proxy
	eof    bool         // local ended after replay
}

// newEarly is nil when c cannot be read early (its reads cannot be
// interrupted: not TCP).
func newEarly(c net.Conn) *earlyData {
	if sc, ok := sockio.Wrap(c).(*sockio.Conn); ok {
		return &earlyData{local: sc}
	}
	return nil
}

// conn is the local connection for an HTTP/1.1 tunnel after refused
// HTTP/2 attempts: what they read and the proxy never took comes first.
func (e *earlyData) conn(c net.Conn) net.Conn {
	if e == nil || (len(e.replay) == 0 && !e.eof) {
		return c
	}
	return &replayConn{Conn: c, rest: e.replay, eof: e.eof}
}

type replayConn struct {
	net.Conn
	rest []byte
	eof  bool
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	if c.eof {
		return 0, io.EOF
	}
	return c.Conn.Read(p)
}

func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// errEarlyStopped ends the body of a refused attempt.
var errEarlyStopped = errors.New("tunnel: CONNECT refused before its data was taken")

// readEarly serves a Read of b before the proxy answered: the replay,
// then the local connection, recording what it reads. ok is false once
// the proxy accepted (the normal path takes over).
func (b *reqBody) readEarly(p []byte) (n int, err error, ok bool) {
	e := b.ed
	b.mu.Lock()
	for {
		switch {
		case b.stopped:
			b.mu.Unlock()
			return 0, errEarlyStopped, true
		case b.replayPos < len(e.replay):
			n = copy(p, e.replay[b.replayPos:])
			b.replayPos += n
			b.countLocked(n)
			b.mu.Unlock()
			return n, nil, true
		case e.eof:
			after := b.endLocked(nil)
			b.mu.Unlock()
			if after != nil {
				after()
			}
			return 0, io.EOF, true
		case b.confirmed:
			e.replay = nil // all served: the stream has it
			b.mu.Unlock()
			return 0, nil, false
		case len(e.replay) >= maxEarly:
			b.cond.Wait() // full: wait for the answer
			continue
		}
		break
	}
	b.inRead++
	b.mu.Unlock()
	n, err = e.local.Read(p[:min(len(p), maxEarly-len(e.replay))])
	b.mu.Lock()
	b.inRead--
	b.cond.Broadcast()
	if n > 0 {
		if !b.confirmed {
			e.replay = append(e.replay, p[:n]...)
			b.replayPos += n
		}
		b.countLocked(n)
	}
	var after func()
	switch {
	case err == io.EOF:
		if !b.confirmed {
			e.eof = true
		}
		after = b.endLocked(nil)
	case err != nil && b.stopped:
		err = errEarlyStopped // our own deadline: not the local side's failure
	case err != nil:
		after = b.endLocked(err)
	}
	b.mu.Unlock()
	if after != nil {
		after()
	}
	return n, err, true
}

// readNow is an early read of what the local connection holds already,
// without waiting (0: nothing yet), recorded as readEarly records its
// reads. rc is the local connection's. open sends it in one write with
// the HEADERS; an end or an error is left for the upload's reads.
func (b *reqBody) readNow(rc syscall.RawConn, p []byte) int {
	e := b.ed
	if e == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped || b.confirmed || e.eof || b.inRead > 0 || b.replayPos < len(e.replay) || len(e.replay) >= maxEarly {
		return 0
	}
	n := sockio.ReadAvailable(rc, p[:min(len(p), maxEarly-len(e.replay))])
	if n > 0 {
		e.replay = append(e.replay, p[:n]...)
		b.replayPos += n
		b.countLocked(n)
	}
	return n
}

// confirm is the proxy's 200: what was read early is the stream's now.
func (b *reqBody) confirm() {
	if b.ed == nil {
		return
	}
	b.mu.Lock()
	b.confirmed = true // what is left of the replay is still served first
	b.cond.Broadcast()
	b.mu.Unlock()
}

// stopEarly ends early reading for a refused or failed attempt and waits
// until no read of the local connection is under way, so the next attempt
// replays everything read so far.
func (b *reqBody) stopEarly() {
	if b.ed == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.confirmed || b.stopped {
		return
	}
	b.stopped = true
	b.cond.Broadcast()
	if b.inRead == 0 {
		return
	}
	_ = b.ed.local.SetReadDeadline(time.Now())
	for b.inRead > 0 {
		b.cond.Wait()
	}
	_ = b.ed.local.SetReadDeadline(time.Time{})
}

func newCond(mu *sync.Mutex) *sync.Cond { return sync.NewCond(mu) }
