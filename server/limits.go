package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/h2srv"
	"github.com/porthole-dev/porthole/internal/recbatch"
	"github.com/porthole-dev/porthole/internal/sockio"
	"github.com/porthole-dev/porthole/server/config"
)

// HTTP/2 bounds per client connection: with them and max_connections,
// what clients can make the server hold is finite. Streams and the
// per-stream window are Go's defaults, written out so they stay put; the
// connection window is 4 MiB so many tunnels on one connection are not
// held to 1 MiB in flight between them, and 64 KiB frames keep a
// client's per-stream send buffer (sized from this) small.
const (
	h2MaxStreams       = 250
	h2MaxReadFrameSize = 64 << 10
	h2RecvBufPerConn   = 4 << 20
	h2RecvBufPerStream = 1 << 20
	limitWarnInterval  = time.Minute
)

// lim is the server-wide limits in force (new connections get them).
func (s *Server) lim() config.Limits { return *s.limits.Load() }

// setLimits puts l in force for what comes next: max_connections at once,
// timeouts and header size for connections accepted from now on.
func (s *Server) setLimits(l config.Limits) {
	s.limits.Store(&l)
	s.maxConns.Store(int64(l.MaxConnections))
}

// newHTTPServer applies the configured limits to an http.Server.
func (s *Server) newHTTPServer(ctx context.Context) *http.Server {
	l := s.lim()
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.serverTLS(),
		ReadHeaderTimeout: l.TimeoutReadHeader,
		ReadTimeout:       l.TimeoutRead,
		WriteTimeout:      l.TimeoutWrite,
		IdleTimeout:       l.TimeoutIdle,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          h2MaxStreams,
			MaxReadFrameSize:              h2MaxReadFrameSize,
			MaxReceiveBufferPerConnection: h2RecvBufPerConn,
			MaxReceiveBufferPerStream:     h2RecvBufPerStream,
			// A peer that stops answering pings is gone: its streams'
			// buffers are freed instead of waiting for TCP to notice.
			SendPingTimeout: l.TimeoutIdle / 2,
			PingTimeout:     15 * time.Second,
			// A peer that takes no bytes at all for this long is dead too.
			WriteByteTimeout: l.TimeoutIdle,
		},
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.serveH2Batched(srv)
	return srv
}

// serveH2Batched serves HTTP/2 on a connection whose every write sends
// its TLS records in one system call (net/http's own HTTP/2 gets the
// *tls.Conn, which writes each 16 KiB record on its own). A client whose
// first request is a CONNECT, a tunnel client, gets internal/h2srv, the
// tunnel's own data path; every other client gets x/net's server (the code
// net/http bundles), configured from srv.HTTP2.
func (s *Server) serveH2Batched(srv *http.Server) {
	h2 := &http2.Server{}
	// It fails only for a TLS config without HTTP/2's ciphers; ours
	// leaves ciphers to crypto/tls.
	if err := http2.ConfigureServer(srv, h2); err != nil {
		panic("server: configuring HTTP/2: " + err.Error())
	}
	own := &h2srv.Server{}
	srv.RegisterOnShutdown(own.Shutdown)
	l := s.lim()
	cfg := h2srv.Config{
		Log:                  s.log,
		MaxConcurrentStreams: h2MaxStreams,
		MaxReadFrameSize:     h2MaxReadFrameSize,
		StreamWindow:         h2RecvBufPerStream,
		ConnWindow:           h2RecvBufPerConn,
		MaxHeaderBytes:       l.MaxHeaderBytes,
		IdleTimeout:          l.TimeoutIdle,
		PingAfter:            l.TimeoutIdle / 2,
		WriteTimeout:         l.TimeoutIdle,
		StreamTimeout:        minPositive(l.TimeoutRead, l.TimeoutWrite),
		ExtendedConnect:      strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1"),
	}
	srv.TLSNextProto[http2.NextProtoTLS] = func(hs *http.Server, c *tls.Conn, h http.Handler) {
		// net/http passes the connection's base context through the
		// handler it gives (as it does for its bundled HTTP/2).
		base := context.Background()
		if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
			base = bc.BaseContext()
		}
		conn, tunnels, err := h2srv.Peek(recbatch.WrapTLS(c))
		if err != nil {
			c.Close()
			return
		}
		if tunnels {
			cfg := cfg
			cfg.Handler = h
			own.ServeConn(context.WithValue(base, http.ServerContextKey, hs), conn, cfg)
			return
		}
		h2.ServeConn(conn, &http2.ServeConnOpts{Context: base, Handler: h, BaseConfig: hs})
	}
}

// minPositive is the smaller of a and b that is above zero (0: neither).
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0 || a < b:
		return a
	}
	return b
}

// streamDeadlines lifts the server-wide read and write timeouts from a
// request that is a long-lived stream (a tunnel, an upgrade), which is
// bounded by its own idle timeout instead.
func streamDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
}

// routeDeadlines replaces the server-wide read and write timeouts with a
// route's timeout (0: unlimited). The returned func puts the write
// deadline back for the rest of the response on a kept-alive HTTP/1.1
// connection, where Go only resets it when the next request arrives.
func (s *Server) routeDeadlines(w http.ResponseWriter, timeout time.Duration) (restore func()) {
	rc := http.NewResponseController(w)
	var d time.Time
	if timeout > 0 {
		d = time.Now().Add(timeout)
	}
	rc.SetReadDeadline(d)
	rc.SetWriteDeadline(d)
	return func() {
		var back time.Time
		if w := s.lim().TimeoutWrite; w > 0 {
			back = time.Now().Add(w)
		}
		rc.SetWriteDeadline(back)
	}
}

// limitListener closes connections beyond max at once (as Envoy does at
// its connection limit) rather than queueing them: a client learns it
// was refused, and a flood cannot park connections in the accept queue.
type limitListener struct {
	net.Listener
	max      *atomic.Int64 // shared with the server: a reload may change it
	open     atomic.Int64
	log      *slog.Logger
	lastWarn atomic.Int64 // unix nanos of the last "at the limit" warning
}

func newLimitListener(ln net.Listener, max *atomic.Int64, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, max: max, log: log}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max.Load() {
			l.open.Add(-1)
			l.refuse(c)
			continue
		}
		return &limitConn{Conn: recbatch.New(sockio.Wrap(c)), release: func() { l.open.Add(-1) }}, nil
	}
}

// refuse resets c (no FIN: the client sees a failure, not an empty
// answer) and warns at most once a minute.
func (l *limitListener) refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last >= int64(limitWarnInterval) && l.lastWarn.CompareAndSwap(last, now) {
		l.log.Warn("max_connections reached: refusing new connections", "max_connections", l.max.Load(), "remote", c.RemoteAddr().String())
	}
}

// Open is the number of client connections held now.
func (l *limitListener) Open() int { return int(l.open.Load()) }

// limitConn is a client connection counted against max_connections.
// It is the connection under the TLS layer, so it also batches the TLS
// records of one write into one system call (recbatch).
type limitConn struct {
	*recbatch.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
