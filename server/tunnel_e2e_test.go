package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestConfiguredRoutes runs a dev server with extra configured routes: one
// to a closed port (503), one to a silent upstream with a 1s idle_timeout
// and a websocket route.
func TestConfiguredRoutes(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := silent.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	closedAddr := testutil.RefusedAddr(t)

	ws := upgradeEchoServer(t)
	s, ds := configServer(t, `
routes:
  - from: tcp+https://down.internal:1
    to: tcp://`+closedAddr+`
    allow_any_authenticated_user: true
    timeout: 5s
  - from: tcp+https://quiet.internal:2
    to: tcp://`+silent.Addr().String()+`
    allow_any_authenticated_user: true
    idle_timeout: 1s
  - from: https://ws.localhost
    to: http://`+ws+`
    allow_any_authenticated_user: true
    allow_websockets: true
`)
	tok := issue(t, s, "dev@example.com", time.Hour)

	t.Run("upstream down", func(t *testing.T) {
		if resp, _, _ := connectH1(t, ds, "down.internal:1", tok); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("got %d; want 503 (pomerium-cli deletes its token on a 502)", resp.StatusCode)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		resp, conn, _ := connectH1(t, ds, "quiet.internal:2", tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200", resp.StatusCode)
		}
		var up net.Conn
		select {
		case up = <-accepted:
		case <-time.After(30 * time.Second):
			t.Fatal("upstream never dialed")
		}
		defer up.Close()
		// Nobody speaks: the server must close the tunnel on its own.
		done := make(chan error, 1)
		go func() {
			_, err := io.ReadAll(conn)
			done <- err
		}()
		select {
		case <-done:
		case <-time.After(45 * time.Second):
			t.Fatal("idle tunnel still open long after idle_timeout 1s")
		}
		up.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := up.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("upstream side after idle close: got %v; want EOF", err)
		}
	})

	t.Run("websocket allowed", func(t *testing.T) {
		conn, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: s.CAPool(), ServerName: "ws.localhost", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(60 * time.Second))
		io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: ws.localhost:1234\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Pomerium "+tok+"\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: got %d; want 101", resp.StatusCode)
		}
		io.WriteString(conn, "frame")
		got := make([]byte, 5)
		if _, err := io.ReadFull(br, got); err != nil || string(got) != "frame" {
			t.Errorf("through the upgraded connection: got %q %v; want frame", got, err)
		}
	})
}

// upgradeEchoServer answers an Upgrade with 101 and then echoes bytes.
func upgradeEchoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(conn, brw)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
