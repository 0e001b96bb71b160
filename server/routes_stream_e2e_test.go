package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRedirectRoutes: each redirect option and its default code.
func TestRedirectRoutes(t *testing.T) {
	route := func(host, prefix, redirect string) string {
		s := "  - from: https://" + host + "\n"
		if prefix != "" {
			s += "    prefix: " + prefix + "\n"
		}
		return s + "    redirect: " + redirect + "\n    allow_public_unauthenticated_access: true\n"
	}
	e := startRoutes(t, "routes:\n"+
		route("https.localhost", "", "{https_redirect: true}")+
		route("host.localhost", "", "{host_redirect: example.com, port_redirect: 8443, path_redirect: /new, response_code: 302}")+
		route("prefix.localhost", "/old", "{prefix_rewrite: /new, strip_query: true, response_code: 308}")+
		route("scheme.localhost", "", "{scheme_redirect: http, port_redirect: 8080, response_code: 307}"))
	for _, tc := range []struct {
		host, path string
		code       int
		want       string
	}{
		{"https.localhost", "/a?b=c", 301, "https://https.localhost:" + e.port + "/a?b=c"},
		{"host.localhost", "/x?q=1", 302, "https://example.com:8443/new?q=1"},
		{"prefix.localhost", "/old/page?q=1", 308, "https://prefix.localhost:" + e.port + "/new/page"},
		{"scheme.localhost", "/p", 307, "http://scheme.localhost:8080/p"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			resp, body := e.do(e.client, "GET", e.url(tc.host, tc.path), nil)
			if resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.want {
				t.Errorf("got %d Location %q (%q); want %d %q", resp.StatusCode, resp.Header.Get("Location"), body, tc.code, tc.want)
			}
		})
	}
}

// TestTimeouts: timeout answers 504 when the upstream is slower;
// idle_timeout is time without bytes, not the response's length.
//
// The trickle's gaps (100ms) are far below its route's idle_timeout (3s)
// and its whole length (4s) above it: a loaded machine stretches a gap by
// far less than 3s.
func TestTimeouts(t *testing.T) {
	const trickleBytes = 40
	slow, _ := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}), nil)
	trickle, _ := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for i := 0; i < trickleBytes; i++ {
			io.WriteString(w, "x")
			rc.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}), nil)
	route := func(host, to string, extra string) string {
		return "  - from: https://" + host + "\n    to: http://" + to + "\n    allow_public_unauthenticated_access: true\n" + extra
	}
	e := startRoutes(t, "routes:\n"+
		route("timeout.localhost", slow, "    timeout: 300ms\n")+
		route("idle.localhost", slow, "    idle_timeout: 300ms\n")+
		route("trickle.localhost", trickle, "    idle_timeout: 3s\n")+
		route("short.localhost", trickle, "    timeout: 300ms\n"))
	for _, tc := range []struct {
		host  string
		want  int
		check func(t *testing.T, body string)
	}{
		{"timeout.localhost", http.StatusGatewayTimeout, nil},
		{"idle.localhost", http.StatusGatewayTimeout, nil},
		// 4s in all, never 3s without a byte: idle_timeout lets it be.
		{"trickle.localhost", 200, func(t *testing.T, body string) {
			if body != strings.Repeat("x", trickleBytes) {
				t.Errorf("body: got %q; want %d x (the whole trickle)", body, trickleBytes)
			}
		}},
	} {
		t.Run(tc.host, func(t *testing.T) {
			start := time.Now()
			resp, body := e.do(e.client, "GET", e.url(tc.host, "/"), nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %q after %v; want %d", resp.StatusCode, body, time.Since(start), tc.want)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
	t.Run("timeout cuts a long response", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.url("short.localhost", "/"), nil)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && len(b) == trickleBytes {
			t.Errorf("got the whole 4s response through a 300ms timeout")
		}
	})
}

// upgradeEcho answers 101 to an upgrade and then echoes raw bytes.
func upgradeEcho(t *testing.T) string {
	addr, _ := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			http.Error(w, "want an upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "+r.Header.Get("Upgrade")+"\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(conn, brw)
	}), nil)
	return addr
}

// upgrade dials the server over HTTP/1.1 and asks host for proto; it
// returns the status and, on 101, the connection.
func (e *routeEnv) upgrade(t *testing.T, host, proto string) (int, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: e.pki.pool(), ServerName: host, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: "+host+":"+e.port+"\r\nUpgrade: "+proto+"\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 {
		resp.Body.Close()
	}
	return resp.StatusCode, conn, br
}

// TestWebsocketsAndSPDY: upgrades pass only where allowed; an open
// websocket lives past the default 30s route timeout rules (only an
// explicit timeout bounds it) and dies after idle_timeout of silence.
func TestWebsocketsAndSPDY(t *testing.T) {
	echo := upgradeEcho(t)
	route := func(host, extra string) string {
		return "  - from: https://" + host + "\n    to: http://" + echo + "\n    allow_public_unauthenticated_access: true\n" + extra
	}
	e := startRoutes(t, "routes:\n"+
		route("ws.localhost", "    allow_websockets: true\n    idle_timeout: 2s\n")+
		route("nows.localhost", "")+
		route("spdy.localhost", "    allow_spdy: true\n")+
		route("wslife.localhost", "    allow_websockets: true\n    timeout: 400ms\n    idle_timeout: 0s\n"))
	for _, tc := range []struct {
		host, proto string
		want        int
	}{
		{"ws.localhost", "websocket", 101},
		{"nows.localhost", "websocket", 403},
		{"spdy.localhost", "SPDY/3.1", 101},
		{"spdy.localhost", "websocket", 403},
		{"ws.localhost", "SPDY/3.1", 403},
	} {
		t.Run(tc.host+" "+tc.proto, func(t *testing.T) {
			code, conn, br := e.upgrade(t, tc.host, tc.proto)
			if code != tc.want {
				t.Fatalf("got %d; want %d", code, tc.want)
			}
			if code != 101 {
				return
			}
			// Bytes flow for longer than idle_timeout (2s) in all, with
			// gaps far shorter than it (200ms, and whatever a loaded
			// machine adds).
			for i := 0; i < 15; i++ {
				io.WriteString(conn, "ping\n")
				conn.SetReadDeadline(time.Now().Add(time.Minute))
				line, err := br.ReadString('\n')
				if err != nil || line != "ping\n" {
					t.Fatalf("echo %d: got %q, %v", i, line, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	t.Run("idle websocket is closed", func(t *testing.T) {
		code, conn, br := e.upgrade(t, "ws.localhost", "websocket")
		if code != 101 {
			t.Fatalf("got %d; want 101", code)
		}
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		start := time.Now()
		_, err := br.ReadString('\n')
		if err == nil || strings.Contains(err.Error(), "timeout") {
			t.Fatalf("read: got %v; want the proxy to close the silent socket", err)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("closed after %v; want about idle_timeout (2s)", d)
		}
	})
	t.Run("explicit timeout bounds a websocket", func(t *testing.T) {
		code, conn, br := e.upgrade(t, "wslife.localhost", "websocket")
		if code != 101 {
			t.Fatalf("got %d; want 101", code)
		}
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := io.WriteString(conn, "x\n"); err != nil {
				return
			}
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Error("the websocket was still open 30s into a 400ms timeout")
	})
}
