// Package h2srv is the server side of HTTP/2 for connections that carry
// tunnels: a client whose first request is a CONNECT (pomerium-cli, the
// desktop app) gets this server instead of x/net's, which net/http
// bundles. Every stream still goes through the same http.Handler, with a
// ResponseWriter and a request body of its own; what differs is the data
// path. x/net hands each DATA frame from its reader goroutine to a serve
// goroutine, copies it into a pipe, copies it again into the handler's
// buffer, and sends every response write back through the serve goroutine
// and a writer goroutine. Here the reader writes DATA straight to a
// tunnel's upstream socket when it takes it at once, and a tunnel's
// download reads the upstream into a buffer with room for the frame
// header and hands the frame to TLS itself (Stream.Tunnel).
//
// Other connections (browsers, API clients) stay with x/net: Peek reads
// the client's first request and says which server it belongs to.
package h2srv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Config is what a Server serves with. Zero fields take the defaults
// written next to them.
type Config struct {
	Handler http.Handler
	Log     *slog.Logger

	MaxConcurrentStreams uint32        // 250
	MaxReadFrameSize     uint32        // 64 KiB
	StreamWindow         int32         // 1 MiB: the most a stream's client may send ahead
	ConnWindow           int32         // 4 MiB: the same for the whole connection
	MaxHeaderBytes       int           // 1 MiB
	IdleTimeout          time.Duration // a connection without streams this long is closed (0: never)
	PingAfter            time.Duration // a PING after this long without a frame (0: never)
	PingTimeout          time.Duration // 15s: and the connection is dropped without its answer
	WriteTimeout         time.Duration // 2m: a write the client takes nothing of
	StreamTimeout        time.Duration // a request's deadline until its handler moves it (0: none)
	ExtendedConnect      bool          // announce RFC 8441 extended CONNECT
}

func (c *Config) defaults() {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 250
	}
	if c.MaxReadFrameSize < 16<<10 || c.MaxReadFrameSize > 1<<24-1 {
		c.MaxReadFrameSize = 64 << 10
	}
	if c.StreamWindow <= 0 {
		c.StreamWindow = 1 << 20
	}
	if c.ConnWindow < 65535 {
		c.ConnWindow = 4 << 20
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 1 << 20
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 2 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Server serves connections and ends them on Shutdown.
type Server struct {
	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
}

// Shutdown sends GOAWAY on every connection: each closes once its streams
// are done, and new connections close as soon as they start. It does not
// wait.
func (s *Server) Shutdown() {
	s.mu.Lock()
	s.shutdown = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.goAway(http2.ErrCodeNo)
	}
}

// ServeConn serves nc (whose reads start with the client preface) until
// it ends. base is the connection's context: requests' contexts derive
// from it, with http.LocalAddrContextKey set.
func (s *Server) ServeConn(base context.Context, nc net.Conn, cfg Config) {
	cfg.defaults()
	c := newConn(base, nc, cfg)
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	down := s.shutdown
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	if down {
		c.goAway(http2.ErrCodeNo)
	}
	c.serve()
}

// PeekTimeout bounds how long Peek waits for the first request.
const PeekTimeout = 500 * time.Millisecond

// peekLimit bounds what Peek holds: the preface, SETTINGS, WINDOW_UPDATE
// and one request's headers are far less.
const peekLimit = 256 << 10

// Peek reads the client preface and the frames up to the first request's
// whole header block from nc, and returns a connection that reads them
// again, and whether that request is a CONNECT (plain or extended). A
// client that sends no request within PeekTimeout, or bytes this cannot
// make sense of, is left to the other server (which then answers them):
// isConnect is false and no error is returned unless reading failed.
func Peek(nc net.Conn) (replay net.Conn, isConnect bool, err error) {
	rec := &recorder{r: nc, max: peekLimit}
	_ = nc.SetReadDeadline(time.Now().Add(PeekTimeout))
	isConnect, err = peekConnect(rec)
	_ = nc.SetReadDeadline(time.Time{})
	replay = &prefixConn{Conn: nc, prefix: rec.buf.Bytes()}
	var ne net.Error
	if err != nil && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errPeekLimit) || errors.Is(err, errNotH2)) {
		err = nil
	}
	return replay, isConnect, err
}

var (
	errPeekLimit = errors.New("h2srv: first request too large to peek")
	errNotH2     = errors.New("h2srv: not an HTTP/2 client preface")
)

func peekConnect(r io.Reader) (bool, error) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(r, preface); err != nil {
		return false, err
	}
	if string(preface) != http2.ClientPreface {
		return false, errNotH2
	}
	fr := http2.NewFramer(nil, r)
	fr.SetMaxReadFrameSize(peekLimit)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = peekLimit
	for range 16 {
		f, err := fr.ReadFrame()
		if err != nil {
			var ce http2.ConnectionError
			var se http2.StreamError
			if errors.As(err, &ce) || errors.As(err, &se) || errors.Is(err, http2.ErrFrameTooLarge) {
				return false, errNotH2 // the other server answers it
			}
			return false, err
		}
		if h, ok := f.(*http2.MetaHeadersFrame); ok {
			return h.PseudoValue("method") == http.MethodConnect, nil
		}
	}
	return false, nil
}

// recorder keeps what is read through it, up to max.
type recorder struct {
	r   io.Reader
	buf bytes.Buffer
	max int
}

func (r *recorder) Read(p []byte) (int, error) {
	if r.buf.Len() >= r.max {
		return 0, errPeekLimit
	}
	n, err := r.r.Read(p[:min(len(p), r.max-r.buf.Len())])
	r.buf.Write(p[:n])
	return n, err
}

// prefixConn reads prefix, then the connection. It keeps *tls.Conn's
// ConnectionState and the batching Write of what it wraps.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// ConnectionState is the TLS state of the connection under c, for x/net
// (r.TLS) and for this server.
func (c *prefixConn) ConnectionState() tls.ConnectionState {
	if cs, ok := c.Conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return cs.ConnectionState()
	}
	return tls.ConnectionState{}
}
