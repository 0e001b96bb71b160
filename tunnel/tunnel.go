// Package tunnel carries local TCP connections to a Pomerium-style proxy as
// HTTP CONNECT requests over TLS (HTTP/2 when the proxy offers it, many
// tunnels sharing one connection; HTTP/1.1 otherwise), signing in when the
// proxy asks. It is used by the CLI, the TUI and the desktop app alike.
//
//	dst, _ := tunnel.ParseDestination("tcp+https://proxy:8443/db:5432", "")
//	ln, err := tunnel.Listen(ctx, "127.0.0.1:0", tunnel.Config{Destination: dst, Auth: auth})
//	fmt.Println(ln.Addr()); defer ln.Stop()
package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/porthole-dev/porthole/internal/adaptprocs"
	"github.com/porthole-dev/porthole/internal/bytesize"
	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/stackpre"
)

// Destination says where to dial and what to ask for.
type Destination struct {
	// Proxy is the https URL of the proxy to dial (scheme, host, port).
	Proxy *url.URL
	// Authority is the host:port sent as the CONNECT target.
	Authority string
}

// Authenticator supplies and refreshes tokens. authflow.Authenticator
// implements it.
type Authenticator interface {
	// CachedToken returns the cached token for the proxy, or "" when there is none.
	CachedToken(ctx context.Context, proxy *url.URL) (string, error)
	// SignIn runs one interactive sign-in (or joins the one under way) and
	// returns the new token. stale is the token the proxy rejected ("" if
	// none): when the cache already holds a different token, SignIn returns
	// it without a new sign-in. notify receives the sign-in URL.
	SignIn(ctx context.Context, proxy *url.URL, stale string, notify func(signInURL string)) (string, error)
}

// Config configures a Tunnel. Only Destination is required.
type Config struct {
	Destination Destination
	TLSConfig   *tls.Config   // nil: system roots, verification on
	Auth        Authenticator // nil: never sign in (403/302 end the connection)
	// Proxy picks a forward proxy for the dial (http.ProxyFromEnvironment
	// honours HTTPS_PROXY/NO_PROXY); nil means dial directly.
	Proxy        func(*http.Request) (*url.URL, error)
	NetDialer    func(ctx context.Context, network, addr string) (net.Conn, error) // nil: net.Dialer
	DisableHTTP2 bool                                                              // force HTTP/1.1
	// DialTimeout bounds reaching the proxy: the TCP dial, a forward
	// proxy's CONNECT and the TLS handshake. Default 30 seconds.
	DialTimeout time.Duration
	OnEvent     func(Event) // called synchronously; must not block
}

// EventKind names what happened.
type EventKind string

const (
	EventListening  EventKind = "listening"
	EventConnecting EventKind = "connecting"
	EventSignIn     EventKind = "signin" // sign-in needed; SignInURL is set
	EventConnected  EventKind = "connected"
	EventClosed     EventKind = "closed" // BytesSent, BytesReceived, Duration set
	EventError      EventKind = "error"  // Err set
)

// Event is reported to Config.OnEvent.
type Event struct {
	Kind          EventKind
	Time          time.Time
	ConnID        uint64 // 0 for listener-wide events
	Addr          string // local listen address (listening) or peer address
	SignInURL     string
	BytesSent     int64 // local -> upstream
	BytesReceived int64 // upstream -> local
	Duration      time.Duration
	Err           error
}

// Stats are live counters.
type Stats struct {
	Active        int64
	Total         int64
	BytesSent     int64
	BytesReceived int64
}

// String is a one-line, human-readable form for logs (never holds a token).
func (e Event) String() string {
	s := e.Time.Format(time.TimeOnly) + " " + string(e.Kind)
	if e.ConnID != 0 {
		s += fmt.Sprintf(" #%d", e.ConnID)
	}
	if e.Addr != "" {
		s += " " + e.Addr
	}
	switch e.Kind {
	case EventSignIn:
		s += " " + e.SignInURL
	case EventClosed:
		s += fmt.Sprintf(" sent %s, received %s after %s", bytesize.Format(e.BytesSent), bytesize.Format(e.BytesReceived), e.Duration.Round(time.Millisecond))
	case EventError:
		if e.Err != nil {
			s += ": " + e.Err.Error()
		}
	}
	return s
}

// Tunnel carries connections for one destination.
type Tunnel struct {
	cfg    Config
	tlsCfg *tls.Config // what Config.TLSConfig gave, with ServerName set
	// Per protocol offer, cloned once: their session cache resumes TLS
	// sessions, so an HTTP/1.1 tunnel skips the full handshake.
	tlsH1, tlsH2 *tls.Config
	dialer       *proxydial.Dialer

	ids                          atomic.Uint64
	active, total, sent, receivd atomic.Int64

	mu     sync.Mutex
	h2     []*h2Conn
	h2dial *dialCall // the HTTP/2 dial under way, joined by concurrent callers
	noH2   bool      // the proxy did not offer h2: HTTP/1.1 from now on
	conns  map[uint64]func()
	closed bool
}

// New checks cfg and returns a Tunnel.
func New(cfg Config) (*Tunnel, error) {
	d := cfg.Destination
	if d.Proxy == nil || d.Proxy.Host == "" {
		return nil, errors.New("tunnel: destination has no proxy URL (use ParseDestination)")
	}
	if !strings.EqualFold(d.Proxy.Scheme, "https") {
		return nil, fmt.Errorf("tunnel: proxy URL %s is not https", d.Proxy)
	}
	if err := ValidateAuthority(d.Authority); err != nil {
		return nil, fmt.Errorf("tunnel: destination authority: %w", err)
	}
	var tc *tls.Config
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = d.Proxy.Hostname()
	}
	if tc.ClientSessionCache == nil {
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	}
	t := &Tunnel{cfg: cfg, tlsCfg: tc, conns: map[uint64]func(){},
		dialer: &proxydial.Dialer{Proxy: cfg.Proxy, NetDial: cfg.NetDialer, ForwardRoots: tc.RootCAs}}
	t.tlsH1, t.tlsH2 = tc.Clone(), tc.Clone()
	t.tlsH1.NextProtos = []string{"http/1.1"}
	t.tlsH2.NextProtos = []string{"h2", "http/1.1"}
	return t, nil
}

func (t *Tunnel) emit(e Event) {
	if t.cfg.OnEvent == nil {
		return
	}
	e.Time = time.Now()
	t.cfg.OnEvent(e)
}

// Serve accepts on ln until ctx ends or ln is closed.
func (t *Tunnel) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	t.emit(Event{Kind: EventListening, Addr: ln.Addr().String()})
	var wg sync.WaitGroup
	defer wg.Wait()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors: wait a little instead of spinning.
				tm := time.NewTimer(backoff)
				select {
				case <-ctx.Done():
					tm.Stop()
					return ctx.Err()
				case <-tm.C:
				}
				backoff = min(backoff*2, time.Second)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accepting on %s: %w", ln.Addr(), err)
		}
		backoff = 5 * time.Millisecond
		wg.Add(1)
		go func() {
			stackpre.To8K() // opening a stream runs deep: a TLS write under the HTTP/2 open
			defer wg.Done()
			_ = t.ServeConn(ctx, c)
		}()
	}
}

// ServeConn carries one already-accepted connection (or stdin/stdout
// wrapped as a net.Conn) and returns when it ends.
func (t *Tunnel) ServeConn(ctx context.Context, c net.Conn) error {
	adaptprocs.Kick()
	id := t.ids.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var up upstream
	var upMu sync.Mutex
	kill := func() {
		cancel()
		c.Close()
		upMu.Lock()
		if up != nil {
			up.Close()
		}
		upMu.Unlock()
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		c.Close()
		return net.ErrClosed
	}
	t.conns[id] = kill
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.conns, id)
		t.mu.Unlock()
	}()
	t.active.Add(1)
	t.total.Add(1)
	defer t.active.Add(-1)
	defer c.Close()

	start := time.Now()
	t.emit(Event{Kind: EventConnecting, ConnID: id, Addr: c.RemoteAddr().String()})
	var ed *earlyData
	if !t.cfg.DisableHTTP2 {
		ed = newEarly(c)
	}
	u, err := t.open(ctx, id, ed)
	if err != nil {
		if ctx.Err() != nil && !errors.As(err, new(*StatusError)) {
			err = fmt.Errorf("connecting to %s via %s: %w", t.cfg.Destination.Authority, t.cfg.Destination.Proxy, context.Cause(ctx))
		}
		t.emit(Event{Kind: EventError, ConnID: id, Addr: c.RemoteAddr().String(), Err: err})
		// The tunnel never opened (proxy down, refused, 403...): a reset,
		// not an end, or an application that sent a request and reads to
		// the end would take nothing for a complete, empty answer.
		resetConn(c)
		return err
	}
	upMu.Lock()
	up = u
	upMu.Unlock()
	defer u.Close()
	stopKill := context.AfterFunc(ctx, kill)
	defer stopKill()
	t.emit(Event{Kind: EventConnected, ConnID: id, Addr: c.RemoteAddr().String()})
	local := c
	if _, h1 := u.(*h1Upstream); h1 {
		local = ed.conn(c)
	}
	sent, recvd, err := t.pipe(local, u)
	if err != nil && ctx.Err() != nil {
		err = nil // Stop or the context ended it: not a failure of the tunnel
	}
	if err != nil {
		t.emit(Event{Kind: EventError, ConnID: id, Addr: c.RemoteAddr().String(), Err: err})
	}
	t.emit(Event{Kind: EventClosed, ConnID: id, Addr: c.RemoteAddr().String(), BytesSent: sent, BytesReceived: recvd, Duration: time.Since(start)})
	return err
}

// Stats returns the live counters.
func (t *Tunnel) Stats() Stats {
	return Stats{Active: t.active.Load(), Total: t.total.Load(), BytesSent: t.sent.Load(), BytesReceived: t.receivd.Load()}
}

// closeActive ends every connection under way.
func (t *Tunnel) closeActive() {
	t.mu.Lock()
	kills := make([]func(), 0, len(t.conns))
	for _, k := range t.conns {
		kills = append(kills, k)
	}
	t.mu.Unlock()
	for _, k := range kills {
		k()
	}
}

// Close releases shared proxy connections and ends active tunnels.
func (t *Tunnel) Close() error {
	t.mu.Lock()
	t.closed = true
	h2 := t.h2
	t.h2 = nil
	t.mu.Unlock()
	t.closeActive()
	for _, c := range h2 {
		c.cc.Close()
	}
	return nil
}
