package tunnel

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/porthole-dev/porthole/internal/streamcopy"
)

// upstream is one open tunnel to the proxy. Reads bring the upstream's
// bytes down; carry takes the local connection's bytes up.
type upstream interface {
	io.Reader
	// carry copies local to the proxy (in the background: a goroutine, or
	// the HTTP/2 transport's writer) until local ends, then half-closes
	// the upstream; it calls done once with how that copy ended.
	carry(local net.Conn, progress func(int), done func(streamcopy.Result))
	// Close ends the tunnel in order.
	Close() error
	// Abort ends it so the proxy sees a failure (a reset), not an end.
	Abort()
}

// downloader is an upstream that writes to the local connection itself
// (HTTP/2: straight from the frame reader when it can) instead of being
// Read. ReadErr is the proxy side's failure, WriteErr the local one's.
type downloader interface {
	copyDown(local net.Conn, progress func(int)) streamcopy.Result
}

// ErrProxyEnded wraps how the proxy side of a tunnel failed: it reset the
// stream, went away, or closed without TLS close_notify. The local
// connection is then reset, so the application does not take truncated
// data for a complete stream.
var ErrProxyEnded = errors.New("the proxy side ended abnormally")

// pipe copies both ways until both directions end. Each orderly end is
// passed on as a half-close; a failure on the proxy side resets the local
// connection (RST) and a failure on the local side aborts the upstream,
// so neither end mistakes a failure for a complete stream. It returns the
// bytes sent (local to upstream) and received, and the first failure.
func (t *Tunnel) pipe(local net.Conn, up upstream) (sent, received int64, err error) {
	var once sync.Once
	var cause error
	fail := func(e error, resetLocal bool) {
		once.Do(func() {
			cause = e
			if resetLocal {
				resetConn(local)
			} else {
				local.Close()
			}
			up.Abort()
		})
	}
	upDone := make(chan struct{})
	up.carry(local, func(n int) { t.sent.Add(int64(n)) }, func(r streamcopy.Result) {
		sent = r.N
		switch {
		case r.WriteErr != nil:
			fail(fmt.Errorf("%w: sending: %w", ErrProxyEnded, r.WriteErr), true)
		case r.ReadErr != nil && !errors.Is(r.ReadErr, net.ErrClosed):
			fail(fmt.Errorf("reading the local connection: %w", r.ReadErr), false)
		}
		close(upDone)
	})
	progress := func(n int) { t.receivd.Add(int64(n)) }
	var down streamcopy.Result
	if d, ok := up.(downloader); ok {
		down = d.copyDown(local, progress)
	} else {
		down = streamcopy.Copy(local, up, progress)
	}
	received = down.N
	switch {
	case down.ReadErr != nil:
		fail(fmt.Errorf("%w: %w", ErrProxyEnded, down.ReadErr), true)
	case down.WriteErr != nil:
		fail(fmt.Errorf("writing to the local connection: %w", down.WriteErr), false)
	default:
		if cw, ok := local.(interface{ CloseWrite() error }); ok {
			if err := cw.CloseWrite(); err != nil {
				fail(fmt.Errorf("half-closing the local connection: %w", err), false)
			}
		} else {
			local.Close()
		}
	}
	<-upDone
	once.Do(func() {}) // no failure from here on: Close, not Abort
	if errors.Is(cause, net.ErrClosed) {
		// Our own kill (Stop, the context) closed a side: not a failure.
		cause = nil
	}
	return sent, received, cause
}

// resetConn closes c so its peer sees a reset (RST), not an end of stream.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
