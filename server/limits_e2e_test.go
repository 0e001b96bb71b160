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
	// Go's server bounds the TLS handshake and the first request by
	// timeout_read_header too (1s here): on a loaded machine some of these
	// eighty connections are cut before they got as far as being idle,
	// which is the server doing its job. Each is set up again until a
	// deadline; what is checked is how an idle one ends.
	setup := func(what string, f func() (net.Conn, error)) net.Conn {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			c, err := f()
			if err == nil {
				return c
			}
			if time.Now().After(deadline) {
				errs <- what + ": " + err.Error()
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	dialTLS := func(proto string) (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{proto}})
	}
	for i := 0; i < n; i++ {
		wg.Add(4)
		go func() { // HTTP/1.1 keep-alive after one request
			defer wg.Done()
			c := setup("h1 healthz", func() (net.Conn, error) {
				c, err := dialTLS("http/1.1")
				if err != nil {
					return nil, err
				}
				io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+ds.Addr+"\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					c.Close()
					return nil, err
				}
				return c, nil
			})
			if c == nil {
				return
			}
			defer c.Close()
			if !closedWithin(c, 30*time.Second) {
				errs <- "idle HTTP/1.1 keep-alive connection not closed"
			}
		}()
		go func() { // HTTP/2 after one request
			defer wg.Done()
			var cc *http2.ClientConn
			c := setup("h2 healthz", func() (net.Conn, error) {
				c, err := dialTLS("h2")
				if err != nil {
					return nil, err
				}
				cc, err = (&http2.Transport{}).NewClientConn(c)
				if err == nil {
					req, _ := http.NewRequest(http.MethodGet, "https://"+ds.Addr+"/healthz", nil)
					var resp *http.Response
					if resp, err = cc.RoundTrip(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
				}
				if err != nil {
					c.Close()
					return nil, err
				}
				return c, nil
			})
			if c == nil {
				return
			}
			defer c.Close()
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
			c := setup("TLS handshake", func() (net.Conn, error) { return dialTLS("http/1.1") })
			if c == nil {
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
	// The 1s bounds the TLS handshake too: a loaded machine may need a
	// few tries to get past it.
	var c *tls.Conn
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var err error
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"http/1.1"}})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
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
	// The held connections never send a request: the header and read
	// timeouts (10s, 30s by default) would close them on a slow machine
	// before the test is done, freeing slots it counts as taken.
	_, ds := configServer(t, "max_connections: 5\ntimeout_read_header: 10m\ntimeout_read: 10m\ntimeout_idle: 10m\n")
	tc := &tls.Config{RootCAs: ds.CAPool, NextProtos: []string{"http/1.1"}}
	dial := func() (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", ds.Addr, tc)
	}
	// The start-up checks' own connections may still hold a slot for a
	// moment after they closed (on a loaded machine the server sees the
	// close late), so each of the five is retried until a deadline.
	var held []net.Conn
	deadline := time.Now().Add(2 * time.Minute)
	for len(held) < 5 {
		c, err := dial()
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
	if c, err := dial(); err == nil {
		c.Close()
		t.Fatal("6th connection with max_connections 5: TLS handshake succeeded; want it refused")
	}
	held[0].Close()
	deadline = time.Now().Add(2 * time.Minute)
	for {
		c, err := dial()
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new connection served 2m after one of 5 closed: %v", err)
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
	// setUp opens a stream again until it works: with 1s timeouts a loaded
	// machine can be slower than that at the TLS handshake or before the
	// handler takes the stream over, and the server then rightly cuts the
	// request. What is tested is the stream once open.
	type stream struct {
		w     io.Writer
		r     io.Reader
		close func()
	}
	setUp := func(t *testing.T, open func() (stream, error)) stream {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			st, err := open()
			if err == nil {
				t.Cleanup(st.close)
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("setting the stream up: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	h1 := func(method, head, want string, status int) func() (stream, error) {
		return func() (stream, error) {
			resp, conn, br, err := tryRequestH1(ds, method, head, tok, want)
			if err != nil {
				return stream{}, err
			}
			if resp.StatusCode != status {
				conn.Close()
				return stream{}, fmt.Errorf("%s: got %d; want %d", want, resp.StatusCode, status)
			}
			return stream{conn, br, func() { conn.Close() }}, nil
		}
	}
	h2 := func(open func(cc *http2.ClientConn) (*http.Response, *io.PipeWriter, error)) func() (stream, error) {
		return func() (stream, error) {
			cc, err := tryH2Conn(ds)
			if err != nil {
				return stream{}, err
			}
			resp, pw, err := open(cc)
			if err == nil && resp.StatusCode != http.StatusOK {
				resp.Body.Close()
				pw.Close()
				err = fmt.Errorf("got %d; want 200", resp.StatusCode)
			}
			if err != nil {
				cc.Close()
				return stream{}, err
			}
			return stream{pw, resp.Body, func() { pw.Close(); resp.Body.Close(); cc.Close() }}, nil
		}
	}
	t.Run("h1", func(t *testing.T) {
		st := setUp(t, h1(http.MethodConnect, "CONNECT echo.internal:7000 HTTP/1.1\r\nHost: echo.internal:7000\r\n", "CONNECT", http.StatusOK))
		talk(t, st.w, st.r)
	})
	t.Run("h2", func(t *testing.T) {
		st := setUp(t, h2(func(cc *http2.ClientConn) (*http.Response, *io.PipeWriter, error) {
			pr, pw := io.Pipe()
			resp, err := cc.RoundTrip(&http.Request{Method: http.MethodConnect, Host: "echo.internal:7000",
				URL:    &url.URL{Scheme: "https", Host: "echo.internal:7000"},
				Header: http.Header{"Authorization": {"Pomerium " + tok}}, Body: pr, ContentLength: -1})
			if err != nil {
				pw.Close()
			}
			return resp, pw, err
		}))
		talk(t, st.w, st.r)
	})
	t.Run("websocket", func(t *testing.T) {
		st := setUp(t, func() (stream, error) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", ds.Addr, &tls.Config{RootCAs: ds.CAPool, ServerName: "ws.localhost", NextProtos: []string{"http/1.1"}})
			if err != nil {
				return stream{}, err
			}
			io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: ws.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Pomerium "+tok+"\r\n\r\n")
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				conn.Close()
				return stream{}, fmt.Errorf("upgrade: %v %v; want 101", resp, err)
			}
			return stream{conn, br, func() { conn.Close() }}, nil
		})
		talk(t, st.w, st.r)
	})
	for _, overH2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("connect-udp h2=%v", overH2), func(t *testing.T) {
			path := masque.Path("dns.internal", "53")
			open := h1(http.MethodGet, "GET "+path+" HTTP/1.1\r\nHost: dns.internal:53\r\nConnection: Upgrade\r\nUpgrade: connect-udp\r\nCapsule-Protocol: ?1\r\n", "connect-udp", http.StatusOK)
			if overH2 {
				open = h2(func(cc *http2.ClientConn) (*http.Response, *io.PipeWriter, error) {
					return tryUDPH2(cc, path, "dns.internal:53", tok)
				})
			}
			st := setUp(t, open)
			end := time.Now().Add(3 * time.Second)
			for time.Now().Before(end) {
				echoDatagrams(t, st.w, st.r)
				time.Sleep(300 * time.Millisecond) // gaps within idle_timeout, the whole beyond timeout_read
			}
		})
	}
}
