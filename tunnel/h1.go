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

	"github.com/porthole-dev/porthole/internal/streamcopy"
)

// connectH1 writes the CONNECT on conn and reads the answer. Bytes the
// reader buffered past the header belong to the tunnel, so the upstream
// reads them first.
func (t *Tunnel) connectH1(ctx context.Context, conn *proxyConn, tok string) (upstream, int, string, error) {
	d := t.cfg.Destination
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	var b strings.Builder
	target, err := d.requestTarget()
	if err == nil {
		err = checkHeaderToken(tok)
	}
	if err != nil {
		stop()
		conn.Close()
		return nil, 0, "", err
	}
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if tok != "" {
		fmt.Fprintf(&b, "Authorization: Pomerium %s\r\n", tok)
	}
	b.WriteString("\r\n")
	fail := func(what string, err error) (upstream, int, string, error) {
		stop()
		conn.Close()
		return nil, 0, "", fmt.Errorf("%s %s to %s: %w", what, d.Authority, d.Proxy.Host, ctxErr(ctx, err))
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return fail("sending CONNECT", err)
	}
	br := bufio.NewReaderSize(conn, 1024)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fail("reading the answer to CONNECT", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The refusal's body is only for messages: never wait long for it.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		stop()
		conn.Close()
		return nil, resp.StatusCode, strings.TrimSpace(string(body)), nil
	}
	if !stop() {
		conn.Close()
		return nil, 0, "", ctx.Err()
	}
	u := &h1Upstream{conn: conn}
	if br.Buffered() > 0 {
		u.r = br
	}
	return u, http.StatusOK, "", nil
}

// proxyConn is a TLS connection to the proxy that knows whether the TCP
// stream under it ended: TLS reports an end without close_notify as a
// plain EOF, which for a tunnel means a proxy that died, not one that
// finished.
type proxyConn struct {
	*tls.Conn
	raw *eofConn
}

type eofConn struct {
	net.Conn
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
	if tc, ok := u.conn.raw.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	u.conn.raw.Close()
}
