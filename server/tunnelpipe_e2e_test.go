package server_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// endingUpstream accepts connections, echoes one read and, at the next,
// either resets the connection or ends it in order.
func endingUpstream(t *testing.T, reset bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return testutil.Serve(t, ln, func(c net.Conn) {
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		c.Write(buf[:n])
		c.Read(buf) // the client has the echo
		if reset {
			c.(*net.TCPConn).SetLinger(0)
		}
		c.Close()
	})
}

// TestTunnelUpstreamEnds: an upstream that resets reaches the client as
// a failure (a TCP reset over HTTP/1.1, a reset stream over HTTP/2), never
// as a clean end; an upstream that ends in order reaches it as one.
func TestTunnelUpstreamEnds(t *testing.T) {
	s, ds := configServer(t, `
routes:
  - from: tcp+https://reset.internal:1
    to: tcp://`+endingUpstream(t, true)+`
    allow_any_authenticated_user: true
  - from: tcp+https://orderly.internal:2
    to: tcp://`+endingUpstream(t, false)+`
    allow_any_authenticated_user: true
`)
	tok := issue(t, s, "dev@example.com", time.Hour)
	for _, tc := range []struct {
		authority string
		reset     bool
	}{{"reset.internal:1", true}, {"orderly.internal:2", false}} {
		t.Run("http1/"+tc.authority, func(t *testing.T) {
			resp, conn, br := connectH1(t, ds, tc.authority, tok)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT: %d", resp.StatusCode)
			}
			io.WriteString(conn, "hello")
			got := make([]byte, 5)
			if _, err := io.ReadFull(br, got); err != nil || string(got) != "hello" {
				t.Fatalf("echo: %q, %v", got, err)
			}
			io.WriteString(conn, "now")
			_, err := io.ReadAll(br)
			if tc.reset && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("after the upstream reset: %v; want a connection reset", err)
			}
			if !tc.reset && err != nil {
				t.Fatalf("after the upstream ended in order: %v; want EOF", err)
			}
		})
		t.Run("http2/"+tc.authority, func(t *testing.T) {
			conn, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"h2"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(time.Minute))
			cc, err := (&http2.Transport{}).NewClientConn(conn)
			if err != nil {
				t.Fatal(err)
			}
			pr, pw := io.Pipe()
			defer pw.Close()
			resp, err := cc.RoundTrip(&http.Request{
				Method: http.MethodConnect, Host: tc.authority, URL: &url.URL{Scheme: "https", Host: tc.authority},
				Header: http.Header{"Authorization": {"Pomerium " + tok}}, Body: pr, ContentLength: -1,
			})
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT: %v, %v", resp, err)
			}
			defer resp.Body.Close()
			go pw.Write([]byte("hello"))
			got := make([]byte, 5)
			if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != "hello" {
				t.Fatalf("echo: %q, %v", got, err)
			}
			go pw.Write([]byte("now"))
			_, err = io.ReadAll(resp.Body)
			var se http2.StreamError
			if tc.reset && !errors.As(err, &se) {
				t.Fatalf("after the upstream reset: %v; want a reset stream", err)
			}
			if !tc.reset && err != nil {
				t.Fatalf("after the upstream ended in order: %v; want EOF", err)
			}
		})
	}
}
