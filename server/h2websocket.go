package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The HTTP/2 server offers extended CONNECT (RFC 8441) for connect-udp
// (internal/h2xconnect), and browsers that see it open WebSockets that way
// too: CONNECT with :protocol websocket on an http route's host. Upstreams
// speak the HTTP/1.1 Upgrade, so such a request is rewritten into one and
// goes through the route as usual (policy, allow_websockets, headers); the
// upstream's 101 becomes the stream's 200.

// isH2WebSocket reports whether r is a WebSocket over HTTP/2 (RFC 8441).
func isH2WebSocket(r *http.Request) bool {
	return r.Method == http.MethodConnect && r.ProtoMajor == 2 && strings.EqualFold(r.Header.Get(":protocol"), "websocket")
}

// asH1WebSocket returns r as the HTTP/1.1 WebSocket upgrade the reverse
// proxy knows, and w wrapped so that the proxy's hijack of it carries the
// stream.
func asH1WebSocket(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	r2.Header.Del(":protocol")
	r2.Header.Set("Connection", "Upgrade")
	r2.Header.Set("Upgrade", "websocket")
	// RFC 8441 drops the key (the stream is the proof); the upstream's
	// RFC 6455 handshake wants one.
	var key [16]byte
	_, _ = rand.Read(key[:])
	r2.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key[:]))
	if r2.Header.Get("Sec-WebSocket-Version") == "" {
		r2.Header.Set("Sec-WebSocket-Version", "13")
	}
	r2.ContentLength = 0
	return &h2UpgradeWriter{ResponseWriter: w, body: r.Body}, r2
}

// h2UpgradeWriter lets httputil.ReverseProxy "hijack" an HTTP/2 stream:
// the conn reads the request body and writes the response body. The
// HTTP/1.1 101 head the proxy writes first is swallowed and answered as
// a 200 on the stream.
type h2UpgradeWriter struct {
	http.ResponseWriter
	body io.ReadCloser
}

func (h *h2UpgradeWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Hijack returns the stream as a net.Conn.
func (h *h2UpgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c := &h2StreamConn{w: h.ResponseWriter, rc: http.NewResponseController(h.ResponseWriter), body: h.body}
	return c, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)), nil
}

type h2StreamConn struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	body io.ReadCloser

	mu      sync.Mutex
	head    []byte // the 101 head seen so far
	started bool
	closed  bool
}

func (c *h2StreamConn) Read(p []byte) (int, error) { return c.body.Read(p) }

func (c *h2StreamConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	n := len(p)
	if !c.started {
		c.head = append(c.head, p...)
		if len(c.head) > 64<<10 {
			return 0, errors.New("upgrade response head too long")
		}
		i := bytes.Index(c.head, []byte("\r\n\r\n"))
		if i < 0 {
			return n, nil
		}
		rest := c.head[i+4:]
		c.head = nil
		c.started = true
		for _, k := range []string{"Connection", "Upgrade", "Keep-Alive", "Transfer-Encoding", "Sec-Websocket-Accept"} {
			c.w.Header().Del(k)
		}
		c.w.WriteHeader(http.StatusOK)
		if len(rest) == 0 {
			return n, c.rc.Flush()
		}
		p = rest
	}
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	return n, c.rc.Flush()
}

func (c *h2StreamConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.body.Close()
}

func (c *h2StreamConn) LocalAddr() net.Addr                { return h2Addr{} }
func (c *h2StreamConn) RemoteAddr() net.Addr               { return h2Addr{} }
func (c *h2StreamConn) SetDeadline(time.Time) error        { return nil }
func (c *h2StreamConn) SetReadDeadline(time.Time) error    { return nil }
func (c *h2StreamConn) SetWriteDeadline(t time.Time) error { return c.rc.SetWriteDeadline(t) }

type h2Addr struct{}

func (h2Addr) Network() string { return "h2" }
func (h2Addr) String() string  { return "h2-stream" }
