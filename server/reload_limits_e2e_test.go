package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// h1Conn is a kept-alive HTTP/1.1 connection to the server.
type h1Conn struct {
	c  *tls.Conn
	br *bufio.Reader
}

func dialH1(t *testing.T, e *routeEnv) *h1Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", e.addr,
		&tls.Config{RootCAs: e.pki.pool(), ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &h1Conn{c: c, br: bufio.NewReader(c)}
}

// get sends GET path with extra header lines and returns the status.
func (h *h1Conn) get(path, extra string) (int, error) {
	h.c.SetDeadline(time.Now().Add(60 * time.Second))
	defer h.c.SetDeadline(time.Time{})
	if _, err := io.WriteString(h.c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n"+extra+"\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// closedByServer waits (up to d) for the server to close the idle
// connection: a read that ends in EOF or a reset, not in our deadline.
func (h *h1Conn) closedByServer(d time.Duration) error {
	h.c.SetReadDeadline(time.Now().Add(d))
	defer h.c.SetReadDeadline(time.Time{})
	_, err := h.br.ReadByte()
	var ne net.Error
	if err == nil {
		return errors.New("the server sent bytes on an idle connection")
	}
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("still open")
	}
	return nil
}

// TestLimitsReload: timeout_idle and max_header_bytes apply on reload,
// as in Pomerium: connections opened after it get the new values, while
// a connection opened before keeps the ones it started with; shutdown
// still ends the server.
func TestLimitsReload(t *testing.T) {
	e := startRoutes(t, "timeout_idle: 10m\n")
	before := dialH1(t, e)
	if code, err := before.get("/healthz", ""); err != nil || code != http.StatusOK {
		t.Fatalf("healthz before the reload: %d %v", code, err)
	}
	big := "X-Big: " + strings.Repeat("a", 8<<10) + "\r\n"
	if code, err := dialH1(t, e).get("/healthz", big); err != nil || code != http.StatusOK {
		t.Fatalf("8 KiB header under the default max_header_bytes: %d %v; want 200", code, err)
	}

	yml, err := os.ReadFile(e.file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(yml), "timeout_idle: 10m\n", "timeout_idle: 1s\nmax_header_bytes: 4096\n", 1)
	if err := os.WriteFile(e.file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}

	after := dialH1(t, e)
	if code, err := after.get("/healthz", ""); err != nil || code != http.StatusOK {
		t.Fatalf("healthz after the reload: %d %v", code, err)
	}
	if err := after.closedByServer(2 * time.Minute); err != nil {
		t.Errorf("a connection opened after timeout_idle: 1s, idle: %v; want it closed by the server", err)
	}
	if code, err := dialH1(t, e).get("/healthz", big); err == nil && code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("8 KiB header after max_header_bytes: 4096: %d; want 431", code)
	}
	// Opened under timeout_idle: 10m, idle all this while: still served.
	if code, err := before.get("/healthz", ""); err != nil || code != http.StatusOK {
		t.Errorf("the connection opened before the reload: %d %v; want it kept with its own timeout", code, err)
	}
}
