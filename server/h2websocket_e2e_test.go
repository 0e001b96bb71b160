package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestH2WebSocket: with extended CONNECT offered (for connect-udp), a
// browser's WebSocket over HTTP/2 (RFC 8441, :protocol websocket) reaches
// an HTTP/1.1 upstream through the route: 200 on the stream, bytes both
// ways; allow_websockets and the policy still apply.
func TestH2WebSocket(t *testing.T) {
	ws := upgradeEchoServer(t)
	s, ds := configServer(t, `
routes:
  - from: https://ws.localhost
    to: http://`+ws+`
    allow_any_authenticated_user: true
    allow_websockets: true
  - from: https://nows.localhost
    to: http://`+ws+`
    allow_any_authenticated_user: true
`)
	tok := issue(t, s, "dev@example.com", time.Hour)
	open := func(t *testing.T, host, auth string) (*http.Response, *io.PipeWriter) {
		t.Helper()
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", ds.Addr,
			&tls.Config{RootCAs: s.CAPool(), ServerName: host, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		cc, err := (&http2.Transport{}).NewClientConn(conn)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.Close() })
		authority := host + ":" + ds.URL.Port()
		req := &http.Request{Method: http.MethodConnect, Host: authority,
			URL:    &url.URL{Scheme: "https", Host: authority, Path: "/socket"},
			Header: http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}}, Body: pr, ContentLength: -1}
		if auth != "" {
			req.Header.Set("Authorization", "Pomerium "+auth)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		resp, err := cc.RoundTrip(req.WithContext(ctx))
		if err != nil {
			t.Fatalf("h2 websocket CONNECT: %v", err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp, pw
	}
	t.Run("allowed", func(t *testing.T) {
		resp, pw := open(t, "ws.localhost", tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200", resp.StatusCode)
		}
		for _, msg := range []string{"frame", "another frame"} {
			if _, err := io.WriteString(pw, msg); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != msg {
				t.Fatalf("through the stream: got %q, %v; want %q", got, err, msg)
			}
		}
	})
	t.Run("route without allow_websockets", func(t *testing.T) {
		if resp, _ := open(t, "nows.localhost", tok); resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d; want 403", resp.StatusCode)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		if resp, _ := open(t, "ws.localhost", ""); resp.StatusCode == http.StatusOK {
			t.Errorf("got 200 without credentials; want a refusal")
		}
	})
}
