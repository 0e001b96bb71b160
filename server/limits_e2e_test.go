package server_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/masque"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestIdleConnectionsClosed: keep-alive HTTP/1.1 and HTTP/2 connections
// with nothing in flight, connections that never finish their TLS
// handshake and ones that never send a request are all closed by the
// server after the configured timeouts, with no credentials needed.
func TestIdleConnectionsClosed(t *testing.T) {
	_, ds := configServer(t, "timeout_idle: 1s\ntimeout_read_header: 1s\n")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan string, 4*n)
	for i := 0; i < n; i++ {
		wg.Add(4)
		go func() { // HTTP/1.1 keep-alive after one request
			defer wg.Done()
			c, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"http/1.1"}})
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+ds.Addr+"\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				errs <- "h1 healthz failed"
				return
			}
			io.Copy(io.Discard, resp.Body)
			if !closedWithin(c, 30*time.Second) {
				errs <- "idle HTTP/1.1 keep-alive connection not closed"
			}
		}()
		go func() { // HTTP/2 after one request
			defer wg.Done()
			c, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"h2"}})
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			cc, err := (&http2.Transport{}).NewClientConn(c)
			if err != nil {
				errs <- err.Error()
				return
			}
			req, _ := http.NewRequest(http.MethodGet, "https://"+ds.Addr+"/healthz", nil)
			resp, err := cc.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				errs <- "h2 healthz failed"
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			deadline := time.Now().Add(30 * time.Second)
			for !cc.State().Closed && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond) // polling the client's view; the server acts on its own timer
			}
			if !cc.State().Closed {
				errs <- "idle HTTP/2 connection not closed"
			}
		}()
		go func() { // TCP only, no TLS handshake
			defer wg.Done()
			c, err := net.Dial("tcp", ds.Addr)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			if !closedWithin(c, 30*time.Second) {
				errs <- "connection without a TLS handshake not closed"
			}
		}()
		go func() { // TLS, then no request
			defer wg.Done()
			c, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"http/1.1"}})
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			if !closedWithin(c, 30*time.Second) {
				errs <- "TLS connection without a request not closed"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowHeadersCut: a client trickling its request headers is cut off
// after timeout_read_header even though it keeps sending.
func TestSlowHeadersCut(t *testing.T) {
	_, ds := configServer(t, "timeout_read_header: 1s\n")
	c, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+ds.Addr+"\r\n")
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		<-tick.C
		if _, err := io.WriteString(c, "X-Slow: a\r\n"); err != nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("server still reading trickled headers after 30s; want it cut after timeout_read_header 1s")
		}
	}
}

// TestMaxConnections: connections beyond max_connections are refused at
// once; when one closes, a new one is served.
func TestMaxConnections(t *testing.T) {
	_, ds := configServer(t, "max_connections: 5\n")
	tc := &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"http/1.1"}}
	// The start-up checks' own connections may still hold a slot for a
	// moment after they closed (on a loaded machine the server sees the
	// close late), so each of the five is retried until a deadline.
	var held []net.Conn
	deadline := time.Now().Add(30 * time.Second)
	for len(held) < 5 {
		c, err := tls.Dial("tcp", ds.Addr, tc)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("connection %d of 5: %v", len(held)+1, err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		defer c.Close()
		held = append(held, c)
	}
	if c, err := tls.Dial("tcp", ds.Addr, tc); err == nil {
		c.Close()
		t.Fatal("6th connection with max_connections 5: TLS handshake succeeded; want it refused")
	}
	held[0].Close()
	deadline = time.Now().Add(30 * time.Second)
	for {
		c, err := tls.Dial("tcp", ds.Addr, tc)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new connection served 30s after one of 5 closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHeaderSizeLimit: a header block over max_header_bytes is refused
// with 431 over HTTP/1.1; over HTTP/2 the limit is advertised and the
// request refused (by the client, which honors it, or with 431).
func TestHeaderSizeLimit(t *testing.T) {
	_, ds := configServer(t, "max_header_bytes: 4096\n")
	big := strings.Repeat("a", 16<<10)
	for _, h2 := range []bool{false, true} {
		c := sniClient(t, ds, "", h2)
		req, _ := http.NewRequest(http.MethodGet, ds.URL.String()+"/healthz", nil)
		req.Header.Set("X-Big", big)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("h2=%v: 16 KiB header with max_header_bytes 4096: got %d; want 431", h2, resp.StatusCode)
			}
		} else if !h2 || !strings.Contains(err.Error(), "advertised limit") && !strings.Contains(err.Error(), "GOAWAY") {
			// HTTP/2 refuses an oversized header block for the whole
			// connection (GOAWAY) or the client does before sending.
			t.Errorf("h2=%v: 16 KiB header: %v; want 431, a GOAWAY or the client refusing over the advertised limit", h2, err)
		}
		req, _ = http.NewRequest(http.MethodGet, ds.URL.String()+"/healthz", nil)
		req.Header.Set("X-Small", "a")
		if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("h2=%v: small header: got %v, %v; want 200", h2, resp, err)
		} else {
			resp.Body.Close()
		}
	}
}

// TestStreamsOutliveServerTimeouts: tunnels are long-lived streams, bound
// by their route's idle_timeout, not by timeout_read/timeout_write.
func TestStreamsOutliveServerTimeouts(t *testing.T) {
	udpEcho := testutil.StartUDPEcho(t)
	ws := upgradeEchoServer(t)
	s, ds := configServer(t, "timeout_read: 1s\ntimeout_write: 1s\ntimeout_idle: 1s\nroutes:\n"+
		"  - from: udp+https://dns.internal:53\n    to: udp://"+udpEcho+"\n    allow_any_authenticated_user: true\n"+
		"  - from: https://ws.localhost\n    to: http://"+ws+"\n    allow_any_authenticated_user: true\n    allow_websockets: true\n")
	tok := issue(t, s, "dev@example.com", time.Hour)
	talk := func(t *testing.T, w io.Writer, r io.Reader) {
		t.Helper()
		end := time.Now().Add(3 * time.Second)
		for i := 0; time.Now().Before(end); i++ {
			msg := []byte(strings.Repeat("x", 100) + string(rune('a'+i%26)))
			if _, err := w.Write(msg); err != nil {
				t.Fatalf("write #%d after %s: %v", i, time.Since(end.Add(-3*time.Second)), err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo #%d: %q %v", i, got, err)
			}
			time.Sleep(300 * time.Millisecond) // spacing the writes is the point: each gap is within idle_timeout, the whole beyond timeout_read
		}
	}
	t.Run("h1", func(t *testing.T) {
		resp, conn, br := connectH1(t, ds, "echo.internal:7000", tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("CONNECT: got %d; want 200", resp.StatusCode)
		}
		talk(t, conn, br)
	})
	t.Run("h2", func(t *testing.T) {
		conn, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		cc, err := (&http2.Transport{}).NewClientConn(conn)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		defer pw.Close()
		resp, err := cc.RoundTrip(&http.Request{Method: http.MethodConnect, Host: "echo.internal:7000",
			URL:    &url.URL{Scheme: "https", Host: "echo.internal:7000"},
			Header: http.Header{"Authorization": {"Pomerium " + tok}}, Body: pr, ContentLength: -1})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("h2 CONNECT: %v %v", resp, err)
		}
		defer resp.Body.Close()
		talk(t, pw, resp.Body)
	})
	t.Run("websocket", func(t *testing.T) {
		conn, err := tls.Dial("tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, ServerName: "ws.localhost", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: ws.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Pomerium "+tok+"\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v; want 101", resp, err)
		}
		talk(t, conn, br)
	})
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("connect-udp h2=%v", h2), func(t *testing.T) {
			path := masque.Path("dns.internal", "53")
			var w io.Writer
			var r io.Reader
			if h2 {
				resp, pw := udpH2(t, h2Conn(t, ds), path, "dns.internal:53", tok)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("got %d; want 200", resp.StatusCode)
				}
				w, r = pw, resp.Body
			} else {
				resp, conn, br := udpH1(t, ds, path, "dns.internal:53", tok)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("got %d; want 200", resp.StatusCode)
				}
				w, r = conn, br
			}
			end := time.Now().Add(3 * time.Second)
			for time.Now().Before(end) {
				echoDatagrams(t, w, r)
				time.Sleep(300 * time.Millisecond) // gaps within idle_timeout, the whole beyond timeout_read
			}
		})
	}
}
