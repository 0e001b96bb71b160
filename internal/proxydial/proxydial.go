// Package proxydial opens the connections a client makes to a Pomerium
// proxy, for the tunnel and the HTTP client alike: directly or through a
// forward proxy (HTTP CONNECT to an http:// or https:// proxy, with Basic
// credentials from its URL), and the TLS handshake on top, which trusts a
// config's extra CAs first and the system's roots only when the server's
// certificate needs them (tlsconfig.Fallback).
//
//	d := &proxydial.Dialer{Proxy: http.ProxyFromEnvironment}
//	tc, err := d.TLS(ctx, "proxy.example.com:443", cfg, nil)
package proxydial

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/porthole-dev/porthole/internal/tcpopts"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// Dialer dials a proxy. The zero value dials directly with a net.Dialer.
type Dialer struct {
	// Proxy picks a forward proxy for a dial (http.ProxyFromEnvironment
	// honours HTTPS_PROXY/NO_PROXY); nil, or a nil URL, means directly.
	Proxy func(*http.Request) (*url.URL, error)
	// NetDial opens TCP connections; nil means a net.Dialer that connects
	// to loopback without parking (tcpopts.ConnectNow).
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ForwardRoots are the extra CAs an https:// forward proxy's
	// certificate may chain to, before the system's roots.
	ForwardRoots *x509.CertPool

	mu     sync.Mutex
	system map[string]bool // addresses whose certificates chain to a system root
}

// TLS opens a connection to addr with Raw, wraps it with wrap when that is
// not nil, and runs a TLS client handshake with cfg on it (Handshake). An
// addr whose certificate needed the system's roots goes straight to them
// from then on, so it costs one handshake per connection, not two.
func (d *Dialer) TLS(ctx context.Context, addr string, cfg *tls.Config, wrap func(net.Conn) net.Conn) (*tls.Conn, error) {
	dial := func() (net.Conn, error) {
		c, err := d.Raw(ctx, addr)
		if err != nil || wrap == nil {
			return c, err
		}
		return wrap(c), nil
	}
	if d.needsSystem(addr) {
		if fb := tlsconfig.Fallback(cfg); fb != nil {
			tc, _, err := handshake(ctx, fb, addr, dial)
			if !tlsconfig.VerifyFailed(err) {
				return tc, err
			}
			d.remember(addr, false) // its certificate changed: the extra CAs first again
		}
	}
	tc, fellBack, err := handshake(ctx, cfg, addr, dial)
	if fellBack {
		d.remember(addr, true)
	}
	return tc, err
}

// maxRemembered bounds the addresses a Dialer remembers as needing the
// system's roots; a client talks to a handful.
const maxRemembered = 64

// needsSystem reports whether addr's certificate was found to chain to a
// system root.
func (d *Dialer) needsSystem(addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.system[addr]
}

// remember records whether addr's certificate chains to a system root.
func (d *Dialer) remember(addr string, system bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !system:
		delete(d.system, addr)
	case d.system == nil:
		d.system = map[string]bool{addr: true}
	case len(d.system) < maxRemembered:
		d.system[addr] = true
	}
}

// Addr is the host:port to dial for a proxy's URL: its port, else its
// scheme's (443 for https, 80 for http).
func Addr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func (d *Dialer) netDial(ctx context.Context, addr string) (net.Conn, error) {
	if d.NetDial != nil {
		return d.NetDial(ctx, "tcp", addr)
	}
	nd := net.Dialer{Control: tcpopts.ConnectNow}
	return nd.DialContext(ctx, "tcp", addr)
}

// Raw is the TCP connection to addr, directly or through a CONNECT
// forward proxy.
func (d *Dialer) Raw(ctx context.Context, addr string) (net.Conn, error) {
	var fwd *url.URL
	if d.Proxy != nil {
		req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "https", Host: addr}, Host: addr, Header: http.Header{}}
		var err error
		if fwd, err = d.Proxy(req); err != nil {
			return nil, fmt.Errorf("choosing a forward proxy for %s: %w", addr, err)
		}
	}
	if fwd == nil {
		c, err := d.netDial(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("dialing proxy %s: %w", addr, CtxErr(ctx, err))
		}
		return c, nil
	}
	return d.via(ctx, fwd, addr)
}

// via asks the forward proxy fwd (http or https) for a CONNECT to addr.
func (d *Dialer) via(ctx context.Context, fwd *url.URL, addr string) (net.Conn, error) {
	scheme := strings.ToLower(fwd.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("forward proxy %s: scheme %q is not supported (use http:// or https://)", fwd.Redacted(), fwd.Scheme)
	}
	fwdAddr := Addr(fwd)
	dial := func() (net.Conn, error) {
		c, err := d.netDial(ctx, fwdAddr)
		if err != nil {
			return nil, fmt.Errorf("dialing forward proxy %s: %w", fwd.Redacted(), err)
		}
		return c, nil
	}
	var c net.Conn
	var err error
	if scheme == "https" {
		cfg := &tls.Config{ServerName: fwd.Hostname(), RootCAs: d.ForwardRoots, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
		c, err = Handshake(ctx, cfg, "forward proxy "+fwd.Redacted(), dial)
	} else {
		c, err = dial()
	}
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", addr, addr)
	if u := fwd.User; u != nil {
		pw, _ := u.Password()
		fmt.Fprintf(&b, "Proxy-Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		c.Close()
		return nil, fmt.Errorf("forward proxy %s: writing CONNECT: %w", fwd.Redacted(), CtxErr(ctx, err))
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("forward proxy %s: reading CONNECT answer: %w", fwd.Redacted(), CtxErr(ctx, err))
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("forward proxy %s refused CONNECT to %s: %s", fwd.Redacted(), addr, resp.Status)
	}
	if !stop() {
		c.Close()
		return nil, ctx.Err()
	}
	if br.Buffered() > 0 {
		// The TLS handshake's first bytes cannot come before we sent ours.
		c.Close()
		return nil, fmt.Errorf("forward proxy %s sent data before the TLS handshake", fwd.Redacted())
	}
	return c, nil
}

// Handshake runs a TLS client handshake with cfg over the connection dial
// opens, naming peer in its error. When the server's certificate fails to
// verify against cfg's extra roots (tlsconfig.Config leaves the system's
// out), it dials again and trusts the system's roots
// (tlsconfig.Fallback); when that fails too, the first error stands. A
// failed handshake's connection is closed.
func Handshake(ctx context.Context, cfg *tls.Config, peer string, dial func() (net.Conn, error)) (*tls.Conn, error) {
	tc, _, err := handshake(ctx, cfg, peer, dial)
	return tc, err
}

// handshake is Handshake that also says whether the system's roots were
// needed.
func handshake(ctx context.Context, cfg *tls.Config, peer string, dial func() (net.Conn, error)) (_ *tls.Conn, fellBack bool, _ error) {
	once := func(cfg *tls.Config) (*tls.Conn, error) {
		c, err := dial()
		if err != nil {
			return nil, err
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", peer, CtxErr(ctx, err))
		}
		return tc, nil
	}
	tc, err := once(cfg)
	if !tlsconfig.VerifyFailed(err) {
		return tc, false, err // the usual case: no fallback config is built
	}
	if fb := tlsconfig.Fallback(cfg); fb != nil {
		if tc, err2 := once(fb); err2 == nil {
			return tc, true, nil
		}
	}
	return tc, false, err
}

// CtxErr puts why ctx ended (a timeout, a cancel) in front of err when it
// did: a connection closed under a read says less.
func CtxErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}
