package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/recbatch"
	"github.com/porthole-dev/porthole/internal/sockio"
	"github.com/porthole-dev/porthole/internal/streamcopy"
)

// connectH1 writes the CONNECT on conn and reads the answer. Bytes the
// reader buffered past the header belong to the tunnel, so the upstream
// reads them first.
func (t *Tunnel) connectH1(ctx context.Context, conn *proxyConn, tok string) (upstream, int, string, error) {
	target, err := t.cfg.Destination.requestTarget()
	if err == nil {
		err = checkHeaderToken(tok)
	}
	if err != nil {
		conn.Close()
		return nil, 0, "", err
	}
	br := bufio.NewReaderSize(conn, 1024)
	head := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	ok, code, body, err := t.exchangeH1(ctx, conn, br, http.MethodConnect, head, tok, "CONNECT", func(code int) bool {
		return code == http.StatusOK
	})
	if !ok {
		return nil, code, body, err
	}
	u := &h1Upstream{conn: conn}
	if br.Buffered() > 0 {
		u.r = br
	}
	return u, http.StatusOK, "", nil
}

// exchangeH1 sends one HTTP/1.1 request on conn (head: the request and
// header lines; the token's Authorization line and the blank line are
// added here) and reads the answer's header through br, ctx closing conn
// meanwhile. It returns true when accepted says yes to the status: the
// caller then owns conn and br. Otherwise conn is closed and it returns a
// refusal's status and the start of its body (a message), or an error
// naming what (e.g. "CONNECT").
func (t *Tunnel) exchangeH1(ctx context.Context, conn *proxyConn, br *bufio.Reader, method, head, tok, what string, accepted func(code int) bool) (bool, int, string, error) {
	d := t.cfg.Destination
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	var b strings.Builder
	b.WriteString(head)
	if tok != "" {
		fmt.Fprintf(&b, "Authorization: Pomerium %s\r\n", tok)
	}
	b.WriteString("\r\n")
	fail := func(doing string, err error) (bool, int, string, error) {
		stop()
		conn.Close()
		return false, 0, "", fmt.Errorf("%s %s to %s: %w", doing, d.Authority, d.Proxy.Host, proxydial.CtxErr(ctx, err))
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return fail("sending "+what, err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return fail("reading the answer to "+what, err)
	}
	if !accepted(resp.StatusCode) {
		// The refusal's body is only for messages: never wait long for it.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		stop()
		conn.Close()
		return false, resp.StatusCode, strings.TrimSpace(string(body)), nil
	}
	if !stop() {
		conn.Close()
		return false, 0, "", ctx.Err()
	}
	return true, 0, "", nil
}

// proxyConn is a TLS connection to the proxy that knows whether the TCP
// stream under it ended: TLS reports an end without close_notify as a
// plain EOF, which for a tunnel means a proxy that died, not one that
// finished. Its Write sends all the TLS records of one call in one
// system call (recbatch).
type proxyConn struct {
	*recbatch.TLS
	raw *eofConn
}

func newProxyConn(tc *tls.Conn, raw *eofConn) *proxyConn {
	return &proxyConn{TLS: recbatch.NewTLS(tc, raw), raw: raw}
}

// eofConn is the TCP connection under a proxyConn.
type eofConn struct {
	*recbatch.Conn
	sawEOF atomic.Bool
}

func (c *eofConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.sawEOF.Store(true)
	}
	return n, err
}

// errNoCloseNotify is an HTTP/1.1 tunnel whose TLS stream ended without
// close_notify.
var errNoCloseNotify = errors.New("the TLS connection ended without close_notify")

type h1Upstream struct {
	conn *proxyConn
	r    *bufio.Reader // what the CONNECT answer's reader buffered, until drained
}

func (u *h1Upstream) Read(p []byte) (int, error) {
	if u.r != nil {
		if u.r.Buffered() > 0 {
			return u.r.Read(p)
		}
		u.r = nil
	}
	n, err := u.conn.Read(p)
	if err == io.EOF && u.conn.raw.sawEOF.Load() {
		err = errNoCloseNotify
	}
	return n, err
}

func (u *h1Upstream) carry(local net.Conn, progress func(int), done func(streamcopy.Result)) {
	go func() {
		r := streamcopy.Copy(u.conn, local, progress)
		if r.Err() == nil {
			// close_notify: the proxy sees an orderly end of our side.
			if err := u.conn.CloseWrite(); err != nil {
				r.WriteErr = err
			}
		}
		done(r)
	}()
}

func (u *h1Upstream) Close() error { return u.conn.Close() }

// Abort drops the TCP connection with a reset and no close_notify.
func (u *h1Upstream) Abort() {
	if tc := sockio.TCP(u.conn.raw.Conn.Conn); tc != nil {
		_ = tc.SetLinger(0)
	}
	u.conn.raw.Close()
}
