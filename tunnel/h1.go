package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// upstream is one open tunnel to the proxy.
type upstream interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// connectH1 writes the CONNECT on conn and reads the answer. Bytes the
// reader buffered past the header belong to the tunnel, so the upstream
// reads through the same bufio.Reader.
func (t *Tunnel) connectH1(ctx context.Context, conn *tls.Conn, tok string) (upstream, int, string, error) {
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
	br := bufio.NewReader(conn)
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
	return &h1Upstream{Conn: conn, r: br}, http.StatusOK, "", nil
}

type h1Upstream struct {
	*tls.Conn
	r *bufio.Reader
}

func (u *h1Upstream) Read(p []byte) (int, error) { return u.r.Read(p) }
