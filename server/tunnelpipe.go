package server

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/internal/recbatch"
	"github.com/porthole-dev/porthole/internal/sockio"
	"github.com/porthole-dev/porthole/internal/streamcopy"
)

// The tunnel's copy loops borrow pooled buffers only while bytes flow
// (an idle tunnel holds none) and pass each orderly end on as a
// half-close; a failure on either side resets the other (RST on TCP,
// RST_STREAM on HTTP/2), so truncated data never looks complete.

func (s *Server) tunnelHTTP1(w http.ResponseWriter, up net.Conn, idle time.Duration, client *atomic.Pointer[io.Closer]) (int64, int64) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		logErr(s.log, "connect: hijack", err)
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return 0, 0
	}
	defer conn.Close()
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
		conn = recbatch.WrapTLS(tc) // a write's records in one system call
	}
	// Shutdown and failures drop the TCP connection: no close_notify.
	var c io.Closer = closerFunc(func() error { resetConn(raw); return nil })
	client.Store(&c)
	conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return 0, 0
	}
	act := newActivity(idle, func() { conn.Close(); up.Close() })
	defer act.stop()
	fail := func() { resetConn(raw); resetConn(up) }
	var wg sync.WaitGroup
	var in int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := streamcopy.Copy(up, &drainFirst{br: brw.Reader, r: conn}, act.progress)
		in = r.N
		if r.Err() != nil && !act.fired() {
			fail()
			return
		}
		closeWrite(up)
	}()
	r := streamcopy.Copy(conn, up, act.progress)
	if r.Err() != nil && !act.fired() { // the idle timeout's own close is an orderly end
		fail()
	} else {
		closeWrite(conn) // close_notify
	}
	wg.Wait()
	return in, r.N
}

// tunnelHTTP2 carries one CONNECT stream; failed is true when either side
// failed, and the caller then resets the stream.
func tunnelHTTP2(w http.ResponseWriter, r *http.Request, up net.Conn, idle time.Duration) (in, out int64, failed bool) {
	act := newActivity(idle, func() { r.Body.Close(); up.Close() })
	defer act.stop()
	if t := ownStream(w); t != nil {
		return tunnelOwnH2(w, t, r, up, act)
	}
	rc := http.NewResponseController(w)
	// The upload starts before the 200 is written: bytes the client sent
	// early (right behind its HEADERS) are on their way upstream while the
	// answer goes out.
	done := make(chan streamcopy.Result, 1)
	go func() {
		res := streamcopy.CopyLarge(up, r.Body, act.progress)
		if res.Err() != nil && !act.fired() {
			resetConn(up) // the client reset its stream
		} else {
			closeWrite(up)
		}
		done <- res
	}()
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		r.Body.Close()
		resetConn(up)
		upRes := <-done
		return upRes.N, 0, true
	}
	down := streamcopy.CopyLarge(flushWriter{w, rc}, up, act.progress)
	// The response stream can only end as a whole: once the upstream is
	// done, so is the tunnel.
	r.Body.Close()
	failed = down.Err() != nil && !act.fired() // the idle timeout's own close is an orderly end
	if failed {
		resetConn(up)
	} else {
		up.Close()
	}
	upRes := <-done
	return upRes.N, down.N, failed
}

// h2Tunnel is a stream of internal/h2srv (a tunnel client's connection):
// it carries a tunnel's bytes itself, without the request body's and the
// ResponseWriter's copies.
type h2Tunnel interface {
	Deliver(up net.Conn, progress func(int))
	UploadTo(up net.Conn, progress func(int)) (int64, error)
	DownloadFrom(up net.Conn, progress func(int)) (int64, error)
}

// ownStream finds the h2srv stream under w's wrappers (nil: another
// server's).
func ownStream(w http.ResponseWriter) h2Tunnel {
	for {
		if t, ok := w.(h2Tunnel); ok {
			return t
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// tunnelOwnH2 is tunnelHTTP2 on an h2srv stream, with the same ends: the
// upload starts before the 200, and the tunnel is over once the upstream
// is done.
func tunnelOwnH2(w http.ResponseWriter, t h2Tunnel, r *http.Request, up net.Conn, act *activity) (in, out int64, failed bool) {
	t.Deliver(up, act.progress)
	done := make(chan int64, 1)
	go func() {
		n, err := t.UploadTo(up, act.progress)
		if err != nil && !act.fired() {
			resetConn(up) // the client reset its stream
		} else {
			closeWrite(up)
		}
		done <- n
	}()
	w.WriteHeader(http.StatusOK) // through the wrappers: the access log sees it
	out, err := t.DownloadFrom(up, act.progress)
	r.Body.Close()
	failed = err != nil && !act.fired()
	if failed {
		resetConn(up)
	} else {
		up.Close()
	}
	return <-done, out, failed
}

// drainFirst reads what the HTTP/1.1 server buffered past the CONNECT
// request, then the connection itself (bufio would copy every byte).
type drainFirst struct {
	br *bufio.Reader
	r  io.Reader
}

func (d *drainFirst) Read(p []byte) (int, error) {
	if d.br != nil {
		if d.br.Buffered() > 0 {
			return d.br.Read(p)
		}
		d.br = nil
	}
	return d.r.Read(p)
}

type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// resetConn closes c so its peer sees a reset (RST), not an end of stream.
func resetConn(c net.Conn) {
	inner := c
	if lc, ok := c.(*limitConn); ok {
		inner = lc.Conn.Conn // closed through lc: its slot is released
	}
	if tc := sockio.TCP(inner); tc != nil {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
