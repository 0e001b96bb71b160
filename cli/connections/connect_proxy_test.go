package connections_test

import (
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConnectUsesSavedSettings runs `connections connect` against a real
// TLS CONNECT proxy (HTTP/1.1) in front of an echo listener: the saved CA
// file, listen address and token (service account) are what make it work.
func TestConnectUsesSavedSettings(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	gotAuth := make(chan string, 4)
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth <- r.Header.Get("Authorization")
		if r.Method != http.MethodConnect || r.Host != "echo.internal:7000" {
			http.Error(w, "no such route", http.StatusNotFound)
			return
		}
		up, err := net.Dial("tcp", echo.Addr().String())
		if err != nil {
			http.Error(w, "upstream down", http.StatusServiceUnavailable)
			return
		}
		defer up.Close()
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
		go func() { _, _ = io.Copy(up, rw) }()
		_, _ = io.Copy(conn, up)
	}))
	defer proxy.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := free.Addr().String()
	_ = free.Close()

	e := newEnv(t, nil)
	dest := "tcp+https://" + strings.TrimPrefix(proxy.URL, "https://") + "/echo.internal:7000"
	e.must("add", "--name", "echo", "--destination", dest, "--listen", listen, "--alternate-ca-path", ca)

	errOut, stop := e.start("connect", "echo", "--service-account", "sa-token")
	addr := waitMatch(t, "connect", errOut.String, regexp.MustCompile(`echo: listening on (\S+)`))[1]
	if addr != listen {
		t.Errorf("listening on %s; want the saved %s", addr, listen)
	}
	c, err := net.DialTimeout("tcp", addr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Fatalf("echo: %q, %v; want hello", got, err)
	}
	if a := <-gotAuth; a != "Pomerium sa-token" {
		t.Errorf("Authorization %q; want the service account token", a)
	}
	_ = c.Close()
	_ = stop()
}
