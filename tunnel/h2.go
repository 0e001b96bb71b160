package tunnel

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/streamcopy"
)

// Streams spread over a small pool of HTTP/2 connections once they are
// busy, so one connection's read loop and writer are not the ceiling of
// many tunnels at once; a single tunnel keeps a single connection.
const (
	h2BusyStreams = 4 // open another connection when each has this many
	h2MaxConns    = 4
)

// cpus is the runtime's P count at start-up: the pool's size limit
// follows the machine, not the P count of the moment, which the CLI's
// adaptprocs keeps at one while the process is lightly loaded (a burst
// of tunnels opening at once would otherwise find a limit of two).
var cpus = runtime.GOMAXPROCS(0)

// h2Conn is one shared HTTP/2 connection and the tunnels on it.
type h2Conn struct {
	cc      *h2Client
	streams atomic.Int32
}

// dialCall is an HTTP/2 dial under way; concurrent callers wait for it
// instead of dialing their own connection.
type dialCall struct {
	done chan struct{}
	err  error
}

// pickH2 returns the least busy live connection that takes another
// stream (nil if none), dropping dead ones, and whether the pool should
// grow. t.mu is held.
func (t *Tunnel) pickH2() (best *h2Conn, grow bool) {
	live := t.h2[:0]
	for _, c := range t.h2 {
		if c.cc.usable() {
			live = append(live, c)
		}
	}
	clear(t.h2[len(live):])
	t.h2 = live
	for _, c := range t.h2 {
		if best == nil || c.streams.Load() < best.streams.Load() {
			best = c
		}
	}
	limit := min(h2MaxConns, max(2, cpus))
	grow = best == nil || best.streams.Load() >= h2BusyStreams && len(t.h2) < limit
	return best, grow
}

// getH2 returns a shared HTTP/2 connection with a stream reserved for the
// caller. With none that can take one, it dials (or joins the dial under
// way); when all are busy and the pool may grow, the caller dials the new
// one and opens its stream there, while others use the least busy one.
// When the proxy does not offer h2 it returns the fresh TLS connection
// instead, for HTTP/1.1, and HTTP/1.1 is used from then on.
func (t *Tunnel) getH2(ctx context.Context) (*h2Conn, *proxyConn, error) {
	growFailed := false
	for range 10 {
		t.mu.Lock()
		if t.noH2 {
			t.mu.Unlock()
			return nil, nil, nil
		}
		best, grow := t.pickH2()
		if best != nil && grow && t.h2dial == nil && !t.closed && !growFailed {
			// The caller's own stream is the new connection's first
			// request, at once: a connection left idle after its preface
			// is one a proxy cannot tell from a browser's (pomerium-server
			// gives its tunnel server only connections whose first request,
			// within 500 ms, is a CONNECT). Others opening meanwhile share
			// the busy ones.
			d := &dialCall{done: make(chan struct{})}
			t.h2dial = d
			t.mu.Unlock()
			if conn := t.dialH2(context.WithoutCancel(ctx), d); conn != nil {
				return nil, conn, nil // the proxy stopped offering h2
			}
			growFailed = d.err != nil // the busy connections will do
			continue
		}
		if best != nil && best.cc.reserve() {
			best.streams.Add(1)
			t.mu.Unlock()
			return best, nil, nil
		}
		d := t.h2dial
		if d == nil {
			d = &dialCall{done: make(chan struct{})}
			t.h2dial = d
			t.mu.Unlock()
			if conn := t.dialH2(ctx, d); conn != nil {
				return nil, conn, nil
			}
		} else {
			t.mu.Unlock()
		}
		select {
		case <-d.done:
			if d.err != nil {
				return nil, nil, d.err
			}
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	return nil, nil, fmt.Errorf("no HTTP/2 connection to %s could take another tunnel", t.cfg.Destination.Proxy.Host)
}

// dialH2 dials a connection for the pool and ends the dial call d. It
// returns the TLS connection when the proxy did not offer h2.
func (t *Tunnel) dialH2(ctx context.Context, d *dialCall) *proxyConn {
	conn, err := t.dialProxy(ctx, true)
	var cc *h2Client
	if err == nil && conn.ConnectionState().NegotiatedProtocol == "h2" {
		cc, err = newH2Client(conn, t.cfg.Destination.Proxy.Host)
	}
	var h1 *proxyConn
	t.mu.Lock()
	t.h2dial = nil
	switch {
	case err != nil:
	case cc != nil:
		if t.closed {
			cc.Close()
			err = net.ErrClosed
		} else {
			t.h2 = append(t.h2, &h2Conn{cc: cc})
		}
	default:
		t.noH2 = true
		h1 = conn
	}
	t.mu.Unlock()
	d.err = err
	close(d.done)
	return h1
}

// connectH2 opens a CONNECT stream on c (RFC 9113 §8.5): the upload
// reads the local connection straight into DATA frames, starting before
// the answer with early data; the download is copyDown.
func (t *Tunnel) connectH2(ctx context.Context, c *h2Conn, tok string, ed *earlyData) (upstream, int, string, error) {
	d := t.cfg.Destination
	if _, err := d.requestTarget(); err != nil {
		c.cc.unreserve()
		c.streams.Add(-1)
		return nil, 0, "", err
	}
	if tok == "" {
		ed = nil // a refusal is certain: nothing to send early
	}
	hdrs := []hpack.HeaderField{{Name: ":method", Value: http.MethodConnect}, {Name: ":authority", Value: d.Authority}}
	if tok != "" {
		if err := checkHeaderToken(tok); err != nil {
			c.cc.unreserve()
			c.streams.Add(-1)
			return nil, 0, "", err
		}
		hdrs = append(hdrs, hpack.HeaderField{Name: "authorization", Value: "Pomerium " + tok, Sensitive: true})
	}
	body := newReqBody(ed)
	u := &h2Upstream{conn: c, body: body}
	s, err := c.cc.open(ctx, hdrs, body)
	if err != nil {
		// ctxErr before the stream's own cause: it reads better.
		err = fmt.Errorf("CONNECT %s over HTTP/2 to %s: %w", d.Authority, d.Proxy.Host, proxydial.CtxErr(ctx, err))
		body.stopEarly()
		u.release()
		return nil, 0, "", err
	}
	u.s = s
	if s.status != http.StatusOK {
		body.stopEarly()
		code := s.status
		msg := readRefusal(ctx, s)
		u.Abort()
		return nil, code, msg, nil
	}
	body.confirm()
	return u, http.StatusOK, "", nil
}

// readRefusal is the start of a refusal's body (bounded in size and by
// ctx).
func readRefusal(ctx context.Context, s *h2Stream) string {
	stop := context.AfterFunc(ctx, func() { s.reset(http2.ErrCodeCancel, ctx.Err()) })
	defer stop()
	msg, _ := io.ReadAll(io.LimitReader(s, 512))
	return strings.TrimSpace(string(msg))
}

// reqBody is a CONNECT stream's request body. The transport's writer
// reads the local connection directly: no pipe, no goroutine of ours, no
// extra copy. Until the proxy answers it either waits at the gate, or,
// with early data, reads ahead (see earlyData).
type reqBody struct {
	gate chan struct{} // closed by open: src is set (nil: given up)
	src  net.Conn
	n    atomic.Int64

	mu       sync.Mutex
	cond     *sync.Cond
	progress func(int)
	opened   bool
	done     func(streamcopy.Result) // called once, when ended and opened
	ended    bool
	readErr  error

	ed        *earlyData // nil: no early data
	replayPos int
	confirmed bool // the proxy accepted: early data is the stream's
	stopped   bool // the attempt failed: no more early reads
	inRead    int  // early reads of the local connection under way
}

func newReqBody(ed *earlyData) *reqBody {
	b := &reqBody{gate: make(chan struct{}), ed: ed}
	b.cond = newCond(&b.mu)
	return b
}

func (b *reqBody) Read(p []byte) (int, error) {
	if b.ed != nil {
		if n, err, ok := b.readEarly(p); ok {
			return n, err
		}
	}
	<-b.gate
	if b.src == nil {
		return 0, io.EOF
	}
	return b.account(b.src.Read(p))
}

// account counts a read of the local connection and ends the upload on
// its end or failure (the stream is then half-closed or reset).
func (b *reqBody) account(n int, err error) (int, error) {
	b.mu.Lock()
	b.countLocked(n)
	var after func()
	switch {
	case err == io.EOF:
		after = b.endLocked(nil)
	case err != nil:
		after = b.endLocked(err)
	}
	b.mu.Unlock()
	if after != nil {
		after()
	}
	return n, err
}

// direct is the local TCP connection once the upload may read it
// straight (opened, early data all sent), else nil.
func (b *reqBody) direct() *net.TCPConn {
	select {
	case <-b.gate:
	default:
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended || b.ed != nil && (!b.confirmed || b.replayPos < len(b.ed.replay) || b.ed.eof) {
		return nil
	}
	tc, _ := b.src.(*net.TCPConn)
	return tc
}

func (b *reqBody) countLocked(n int) {
	if n <= 0 {
		return
	}
	b.n.Add(int64(n))
	if b.progress != nil {
		b.progress(n)
	}
}

// Close is the transport done with the body: after the EOF, or because
// the stream ended first (reset, connection lost, or the proxy finished).
// The transport's writer may still be blocked reading the local
// connection, and the stream is only cleaned up (its response body
// failed) once that read returns: a past read deadline makes it return.
func (b *reqBody) Close() error {
	b.stopEarly()
	b.mu.Lock()
	opened := b.opened
	reading := opened && b.src != nil && !b.ended
	b.mu.Unlock()
	if !opened {
		// Closed before the tunnel opened (the stream failed): the writer
		// waits at the gate, and RoundTrip waits for the writer.
		b.open(nil, nil, nil)
	}
	if reading {
		_ = b.src.SetReadDeadline(time.Now())
	}
	b.mu.Lock()
	after := b.endLocked(nil)
	b.mu.Unlock()
	if after != nil {
		after()
	}
	return nil
}

// endLocked marks the upload ended and returns the report to make once
// b.mu is released (nil when there is none yet).
func (b *reqBody) endLocked(readErr error) func() {
	if b.ended {
		return nil
	}
	b.ended, b.readErr = true, readErr
	done := b.done
	b.done = nil
	if done == nil {
		return nil
	}
	n := b.n.Load()
	return func() { done(streamcopy.Result{N: n, ReadErr: readErr}) }
}

// open starts the upload from local (local nil: gives it up). done is
// called once the upload ends; at once if it already has. Bytes read
// early are counted now.
func (b *reqBody) open(local net.Conn, progress func(int), done func(streamcopy.Result)) {
	b.mu.Lock()
	if b.opened {
		b.mu.Unlock()
		if done != nil {
			done(streamcopy.Result{})
		}
		return
	}
	b.opened = true
	b.src, b.progress = local, progress
	if early := b.n.Load(); early > 0 && progress != nil {
		progress(int(early))
	}
	if b.ended {
		n, readErr := b.n.Load(), b.readErr
		b.mu.Unlock()
		close(b.gate)
		if done != nil {
			done(streamcopy.Result{N: n, ReadErr: readErr})
		}
		return
	}
	b.done = done
	close(b.gate)
	b.mu.Unlock()
}

type h2Upstream struct {
	conn     *h2Conn
	body     *reqBody
	s        *h2Stream
	released sync.Once
}

func (u *h2Upstream) Read(p []byte) (int, error) { return u.s.Read(p) }

func (u *h2Upstream) copyDown(local net.Conn, progress func(int)) streamcopy.Result {
	return u.s.copyDown(local, progress)
}

func (u *h2Upstream) carry(local net.Conn, progress func(int), done func(streamcopy.Result)) {
	if _, ok := local.(*net.TCPConn); ok {
		u.body.open(local, progress, done)
		return
	}
	// A reader whose Read cannot be interrupted (stdin) is copied through
	// a pipe, so a failed stream never waits on it.
	pr, pw := io.Pipe()
	u.body.open(pipeConn{local, pr}, nil, nil)
	go func() {
		r := streamcopy.Copy(pw, local, progress)
		pw.CloseWithError(r.ReadErr)
		done(r)
	}()
}

// pipeConn reads from a pipe instead of its net.Conn.
type pipeConn struct {
	net.Conn
	r *io.PipeReader
}

func (c pipeConn) Read(p []byte) (int, error)      { return c.r.Read(p) }
func (c pipeConn) SetReadDeadline(time.Time) error { return c.r.Close() }

// Close ends the stream; one not yet ended both ways in order is reset.
func (u *h2Upstream) Close() error {
	if u.s != nil && !u.s.finished() {
		u.s.reset(http2.ErrCodeCancel, fmt.Errorf("%w: tunnel closed", net.ErrClosed))
	}
	u.release()
	return nil
}

// Abort resets the stream (RST_STREAM CANCEL).
func (u *h2Upstream) Abort() {
	if u.s != nil {
		u.s.reset(http2.ErrCodeCancel, fmt.Errorf("%w: tunnel aborted", net.ErrClosed))
	}
	u.release()
}

func (u *h2Upstream) release() {
	u.released.Do(func() {
		u.body.open(nil, nil, nil)
		u.conn.streams.Add(-1)
	})
}
