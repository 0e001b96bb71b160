package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/internal/recbatch"
	"github.com/porthole-dev/porthole/internal/tcpopts"
)

// proxyAddr is the host:port to dial for the proxy URL.
func proxyAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

func (t *Tunnel) netDial(ctx context.Context, addr string) (net.Conn, error) {
	if t.cfg.NetDialer != nil {
		return t.cfg.NetDialer(ctx, "tcp", addr)
	}
	d := net.Dialer{Control: tcpopts.ConnectNow}
	return d.DialContext(ctx, "tcp", addr)
}

// dialProxy opens a TLS connection to the proxy offering h2 (when
// offerH2) and http/1.1 with ALPN, through the forward proxy Config.Proxy picks, if any. Every step
// ends when ctx does.
func (t *Tunnel) dialProxy(ctx context.Context, offerH2 bool) (*proxyConn, error) {
	p := t.cfg.Destination.Proxy
	addr := proxyAddr(p)
	timeout := t.cfg.DialTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer from %s within %s", addr, timeout))
	defer cancel()
	raw, err := t.dialRaw(ctx, addr)
	if err != nil {
		return nil, err
	}
	cfg := t.tlsH1
	if offerH2 {
		cfg = t.tlsH2
	}
	ec := &eofConn{Conn: recbatch.New(raw)}
	tc := tls.Client(ec, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", p.Host, ctxErr(ctx, err))
	}
	return newProxyConn(tc, ec), nil
}

// dialRaw is the TCP connection to addr, directly or through a CONNECT
// forward proxy.
func (t *Tunnel) dialRaw(ctx context.Context, addr string) (net.Conn, error) {
	var fwd *url.URL
	if t.cfg.Proxy != nil {
		req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "https", Host: addr}, Host: addr, Header: http.Header{}}
		var err error
		if fwd, err = t.cfg.Proxy(req); err != nil {
			return nil, fmt.Errorf("choosing a forward proxy for %s: %w", addr, err)
		}
	}
	if fwd == nil {
		c, err := t.netDial(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("dialing proxy %s: %w", addr, ctxErr(ctx, err))
		}
		return c, nil
	}
	return t.dialVia(ctx, fwd, addr)
}

// dialVia asks the forward proxy fwd (http or https) for a CONNECT to addr.
func (t *Tunnel) dialVia(ctx context.Context, fwd *url.URL, addr string) (net.Conn, error) {
	scheme := strings.ToLower(fwd.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("forward proxy %s: scheme %q is not supported (use http:// or https://)", fwd.Redacted(), fwd.Scheme)
	}
	fwdAddr := fwd.Host
	if fwd.Port() == "" {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		fwdAddr = net.JoinHostPort(fwd.Hostname(), port)
	}
	c, err := t.netDial(ctx, fwdAddr)
	if err != nil {
		return nil, fmt.Errorf("dialing forward proxy %s: %w", fwd.Redacted(), err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if scheme == "https" {
		tc := tls.Client(c, &tls.Config{ServerName: fwd.Hostname(), RootCAs: t.tlsCfg.RootCAs, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("TLS handshake with forward proxy %s: %w", fwd.Redacted(), err)
		}
		c = tc
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", addr, addr)
	if u := fwd.User; u != nil {
		pw, _ := u.Password()
		fmt.Fprintf(&b, "Proxy-Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		c.Close()
		return nil, fmt.Errorf("forward proxy %s: writing CONNECT: %w", fwd.Redacted(), ctxErr(ctx, err))
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("forward proxy %s: reading CONNECT answer: %w", fwd.Redacted(), ctxErr(ctx, err))
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

// ctxErr puts why ctx ended (a timeout, a cancel) in front of err when it
// did: a connection closed under a read says less.
func ctxErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}
