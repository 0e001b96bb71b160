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
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Destination says where to dial and what to ask for.
type Destination struct {
	// Proxy is the https URL of the proxy to dial (scheme, host, port).
	Proxy *url.URL
	// Authority is the host:port sent as the CONNECT target.
	Authority string
}

// ParseDestination accepts "host:port", "tcp+https://host:port" and
// "tcp+https://proxy[:port]/host:port". pomeriumURL, when not empty,
// overrides where to dial (--pomerium-url). Errors say which form is expected.
func ParseDestination(dest, pomeriumURL string) (Destination, error) {
	panic("not implemented")
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
	DisableHTTP2 bool        // force HTTP/1.1
	OnEvent      func(Event) // called synchronously; must not block
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

// String is a one-line, human-readable form for logs (never holds a token).
func (e Event) String() string { return fmt.Sprintf("%s %s", e.Time.Format(time.TimeOnly), e.Kind) }

// Stats are live counters.
type Stats struct {
	Active        int64
	Total         int64
	BytesSent     int64
	BytesReceived int64
}

// Tunnel carries connections for one destination.
type Tunnel struct{}

// New checks cfg and returns a Tunnel.
func New(cfg Config) (*Tunnel, error) { panic("not implemented") }

// Serve accepts on ln until ctx ends or ln is closed.
func (t *Tunnel) Serve(ctx context.Context, ln net.Listener) error { panic("not implemented") }

// ServeConn carries one already-accepted connection (or stdin/stdout
// wrapped as a net.Conn) and returns when it ends.
func (t *Tunnel) ServeConn(ctx context.Context, c net.Conn) error { panic("not implemented") }

// Stats returns the live counters.
func (t *Tunnel) Stats() Stats { panic("not implemented") }

// Close releases shared proxy connections.
func (t *Tunnel) Close() error { panic("not implemented") }

// Listener is a started local listener; front ends start and stop it.
type Listener struct{}

// Listen opens addr ("127.0.0.1:0" picks a port) and serves cfg on it in
// the background. EventListening is reported with the chosen address.
func Listen(ctx context.Context, addr string, cfg Config) (*Listener, error) {
	panic("not implemented")
}

func (l *Listener) Addr() net.Addr        { panic("not implemented") }
func (l *Listener) Stats() Stats          { panic("not implemented") }
func (l *Listener) Stop() error           { panic("not implemented") } // closes listener and active connections
func (l *Listener) Done() <-chan struct{} { panic("not implemented") }
func (l *Listener) Err() error            { panic("not implemented") } // why it stopped, nil after Stop
