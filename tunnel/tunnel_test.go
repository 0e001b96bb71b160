package tunnel_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

func TestParseDestination(t *testing.T) {
	for _, tc := range []struct {
		name, dest, pomeriumURL string
		wantProxy, wantAuth     string
		wantErr                 string
	}{
		{"host form", "db.example.com:5432", "", "https://db.example.com:443", "db.example.com:5432", ""},
		{"tcp+https host form", "tcp+https://db.example.com:5432", "", "https://db.example.com:443", "db.example.com:5432", ""},
		{"path form with port", "tcp+https://proxy.example.com:8443/db.internal:5432", "", "https://proxy.example.com:8443", "db.internal:5432", ""},
		{"path form without port", "tcp+https://proxy.example.com/db.internal:5432", "", "https://proxy.example.com", "db.internal:5432", ""},
		{"pomerium-url overrides", "redis.example.com:6379", "https://proxy.example.com:8443/ignored", "https://proxy.example.com:8443", "redis.example.com:6379", ""},
		{"ipv6 authority", "[::1]:22", "", "https://[::1]:443", "[::1]:22", ""},
		{"empty", "", "", "", "", "empty destination"},
		{"no port", "db.example.com", "", "", "", "want host:port, tcp+https://host:port or tcp+https://proxy[:port]/host:port"},
		{"bad port", "db.example.com:99999", "", "", "", "port \"99999\""},
		{"wrong scheme", "https://db.example.com:5432", "", "", "", "scheme \"https\" is not tcp+https"},
		{"path form no port", "tcp+https://proxy.example.com/db.internal", "", "", "", "is not host:port"},
		{"host form no port", "tcp+https://db.example.com", "", "", "", "is not host:port"},
		{"http pomerium-url", "db:5432", "http://proxy", "", "", "--pomerium-url"},
		{"garbage pomerium-url", "db:5432", "::nope", "", "", "--pomerium-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tunnel.ParseDestination(tc.dest, tc.pomeriumURL)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v; want none", err)
			}
			if d.Proxy.String() != tc.wantProxy || d.Authority != tc.wantAuth {
				t.Fatalf("got proxy %s authority %s; want %s %s", d.Proxy, d.Authority, tc.wantProxy, tc.wantAuth)
			}
		})
	}
}

// TestFakeOnlyRefusals covers answers the dev server cannot be made to
// give: an upstream that is down, and a proxy that keeps asking to sign in.
func TestFakeOnlyRefusals(t *testing.T) {
	for _, tc := range []struct {
		name       string
		authority  string
		want       string
		wantLogins int64
	}{
		{"upstream down", "down.internal:7002", "upstream unavailable", 1},
		{"redirect loop signs in once", "loop.internal:7003", "still asks to sign in for loop.internal:7003 after signing in (302)", 1},
	} {
		for _, h1 := range []bool{true, false} {
			name := tc.name + "/h2"
			if h1 {
				name = tc.name + "/h1"
			}
			t.Run(name, func(t *testing.T) {
				p := startFakeProxy(t, true)
				dst, _ := tunnel.ParseDestination("tcp+https://"+p.Addr+"/"+tc.authority, "")
				auth := newAuth(t, p.CAPool, fakeBrowser(p))
				tn, err := tunnel.New(tunnel.Config{Destination: dst, TLSConfig: &tls.Config{RootCAs: p.CAPool}, Auth: auth, DisableHTTP2: h1})
				if err != nil {
					t.Fatal(err)
				}
				defer tn.Close()
				err = serveOne(t, tn)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v; want an error containing %q", err, tc.want)
				}
				if got := p.logins.Load(); got != tc.wantLogins {
					t.Fatalf("logins: got %d; want %d", got, tc.wantLogins)
				}
				// The token is kept: a 5xx is not the token's fault.
				if tok, _ := auth.CachedToken(context.Background(), p.URL); tok == "" {
					t.Fatal("cached token: got none; want the token kept")
				}
			})
		}
	}
}

func TestNoAuthenticator(t *testing.T) {
	p := startFakeProxy(t, false)
	dst, _ := tunnel.ParseDestination("tcp+https://"+p.Addr+"/echo.internal:7000", "")
	tn, err := tunnel.New(tunnel.Config{Destination: dst, TLSConfig: &tls.Config{RootCAs: p.CAPool}})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	if err := serveOne(t, tn); !errors.Is(err, tunnel.ErrSignInNeeded) {
		t.Fatalf("got %v; want ErrSignInNeeded", err)
	}
}

// TestStopClosesActive: Stop ends the listener and connections under way.
func TestStopClosesActive(t *testing.T) {
	p := startFakeProxy(t, true)
	log := &eventLog{}
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr}, "echo.internal:7000"),
		TLSConfig:   &tls.Config{RootCAs: p.CAPool},
		Auth:        newAuth(t, p.CAPool, fakeBrowser(p)),
		OnEvent:     log.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 5)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo: got %q, %v", buf, err)
	}
	if a := ln.Stats().Active; a != 1 {
		t.Fatalf("active: got %d; want 1", a)
	}
	if err := ln.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-ln.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if err := ln.Err(); err != nil {
		t.Fatalf("Err after Stop: got %v; want nil", err)
	}
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("read after Stop: got %d bytes; want the connection closed", n)
	}
	if a := ln.Stats().Active; a != 0 {
		t.Fatalf("active after Stop: got %d; want 0", a)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second); err == nil {
		t.Fatal("dial after Stop succeeded; want the listener closed")
	}
	kinds := map[tunnel.EventKind]int{}
	for _, e := range log.all() {
		kinds[e.Kind]++
		if strings.Contains(e.String(), "gen1.") {
			t.Fatalf("event %q holds a token", e)
		}
	}
	for _, k := range []tunnel.EventKind{tunnel.EventListening, tunnel.EventConnecting, tunnel.EventSignIn, tunnel.EventConnected, tunnel.EventClosed} {
		if kinds[k] != 1 {
			t.Errorf("%s events: got %d; want 1 (all: %v)", k, kinds[k], kinds)
		}
	}
}

// TestListenerContextCancel: the listener stops when its context ends.
func TestListenerContextCancel(t *testing.T) {
	p := startFakeProxy(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := tunnel.Listen(ctx, "127.0.0.1:0", tunnel.Config{Destination: echoDest(t, target{Addr: p.Addr}, "echo.internal:7000")})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-ln.Done():
	case <-time.After(time.Minute):
		t.Fatal("listener did not stop within a minute of its context ending")
	}
	if err := ln.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err: got %v; want context.Canceled", err)
	}
}

// TestStdioConn carries a stdin/stdout pair (ssh's ProxyCommand).
func TestStdioConn(t *testing.T) {
	p := startFakeProxy(t, true)
	tn, err := tunnel.New(tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr}, "echo.internal:7000"),
		TLSConfig:   &tls.Config{RootCAs: p.CAPool},
		Auth:        newAuth(t, p.CAPool, fakeBrowser(p)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- tn.ServeConn(context.Background(), tunnel.StdioConn(inR, outW)) }()
	go func() {
		inW.Write([]byte("ssh banner"))
		inW.Close()
	}()
	got, err := io.ReadAll(outR)
	if err != nil || !bytes.Equal(got, []byte("ssh banner")) {
		t.Fatalf("stdout: got %q, %v; want %q", got, err, "ssh banner")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeConn: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("ServeConn did not return after both sides closed")
	}
}

// TestDialTimeout: a proxy that accepts TCP but never speaks TLS ends the
// connection after DialTimeout with a message that says so.
func TestDialTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // never accepted: the kernel completes the TCP handshake
	dst, _ := tunnel.ParseDestination("tcp+https://"+l.Addr().String()+"/echo.internal:7000", "")
	for _, h1 := range []bool{true, false} {
		tn, err := tunnel.New(tunnel.Config{Destination: dst, DialTimeout: 200 * time.Millisecond, DisableHTTP2: h1})
		if err != nil {
			t.Fatal(err)
		}
		err = serveOne(t, tn)
		tn.Close()
		want := "no answer from " + l.Addr().String() + " within 200ms"
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("h1=%v: got %v; want one line containing %q", h1, err, want)
		}
	}
}

// TestH2DeadSharedConn: when the shared HTTP/2 connection dies under the
// tunnel (no GOAWAY), the next connection dials a new one and works.
func TestH2DeadSharedConn(t *testing.T) {
	p := startFakeProxy(t, true)
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr}, "echo.internal:7000"),
		TLSConfig:   &tls.Config{RootCAs: p.CAPool},
		Auth:        newAuth(t, p.CAPool, fakeBrowser(p)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Stop()
	for i, step := range []string{"first", "after the connection died"} {
		if i == 1 {
			p.srv.CloseClientConnections()
		}
		got, err := roundTrip(ln.Addr().String(), []byte(step))
		if err != nil || string(got) != step {
			t.Fatalf("%s: got %q, %v", step, got, err)
		}
	}
}

// TestProxyFromEnvironmentSemantics: HTTPS_PROXY is used for the proxy's
// host, NO_PROXY bypasses it. httpproxy is what http.ProxyFromEnvironment
// runs; loopback addresses are always direct there, so the proxy is
// named example.com (in the fake's certificate) and mapped to 127.0.0.1.
func TestProxyFromEnvironmentSemantics(t *testing.T) {
	p := startFakeProxy(t, true)
	_, port, _ := net.SplitHostPort(p.Addr)
	fp := testutil.StartForwardProxy(t, map[string]string{"example.com": "127.0.0.1"})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, port, err := net.SplitHostPort(addr); err == nil && h == "example.com" {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	for _, tc := range []struct {
		name     string
		noProxy  string
		h1       bool
		wantUses int
	}{
		{"HTTPS_PROXY used/h1", "", true, 1},
		{"HTTPS_PROXY used/h2", "", false, 1},
		{"NO_PROXY bypasses/h1", "example.com", true, 0},
		{"NO_PROXY bypasses/h2", "example.com", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fp.Uses()
			env := &httpproxy.Config{HTTPSProxy: fp.URL.String(), NoProxy: tc.noProxy}
			pf := env.ProxyFunc()
			dst, err := tunnel.ParseDestination("tcp+https://example.com:"+port+"/echo.internal:7000", "")
			if err != nil {
				t.Fatal(err)
			}
			// The sign-in client has no way to reach example.com: a token
			// the fake accepts is cached instead.
			auth := newAuth(t, p.CAPool, fakeBrowser(p))
			if err := auth.Store.Save("example.com:"+port, "gen1.999"); err != nil {
				t.Fatal(err)
			}
			ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
				Destination:  dst,
				TLSConfig:    &tls.Config{RootCAs: p.CAPool},
				Auth:         auth,
				Proxy:        func(r *http.Request) (*url.URL, error) { return pf(r.URL) },
				NetDialer:    dial,
				DisableHTTP2: tc.h1,
				OnEvent: func(e tunnel.Event) {
					if e.Kind == tunnel.EventError {
						t.Logf("tunnel: %v", e.Err)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			if got, err := roundTrip(ln.Addr().String(), []byte("hi")); err != nil || string(got) != "hi" {
				t.Fatalf("echo: got %q, %v", got, err)
			}
			if got := fp.Uses() - before; got != tc.wantUses {
				t.Fatalf("forward proxy uses: got %d; want %d", got, tc.wantUses)
			}
		})
	}
}

// TestH1WhenNoH2Offered: against a proxy that offers only HTTP/1.1 the
// tunnel (HTTP/2 not disabled) falls back to HTTP/1.1 without a wasted
// dial, and each closed event carries the bytes each way and a duration.
func TestH1WhenNoH2Offered(t *testing.T) {
	p := startFakeProxy(t, false)
	var dials atomic.Int64
	var mu sync.Mutex
	protos := map[string]int{}
	log := &eventLog{}
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr}, "echo.internal:7000"),
		TLSConfig: &tls.Config{RootCAs: p.CAPool, VerifyConnection: func(cs tls.ConnectionState) error {
			mu.Lock()
			protos[cs.NegotiatedProtocol]++
			mu.Unlock()
			return nil
		}},
		Auth:      newAuth(t, p.CAPool, fakeBrowser(p)),
		NetDialer: countingDialer(&dials),
		OnEvent:   log.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Stop()
	msgs := []string{"first over http/1.1", "second, still http/1.1"}
	for _, m := range msgs {
		if got, err := roundTrip(ln.Addr().String(), []byte(m)); err != nil || string(got) != m {
			t.Fatalf("echo: got %q, %v; want %q", got, err, m)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// One TLS connection per CONNECT: the first (refused with 302 before
	// the sign-in), its retry, the second connection's.
	if protos["h2"] != 0 || protos["http/1.1"] != 3 {
		t.Fatalf("negotiated protocols: got %v; want http/1.1 three times, never h2", protos)
	}
	if got := dials.Load(); got != 3 {
		t.Fatalf("TCP dials: got %d; want 3 (no dial wasted on finding out h2 is not offered)", got)
	}
	// The listener goroutine may still be emitting the second closed event.
	deadline := time.Now().Add(time.Minute)
	for log.count(tunnel.EventClosed) < len(msgs) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the event log against the deadline
	}
	var closed []tunnel.Event
	for _, e := range log.all() {
		if e.Kind == tunnel.EventClosed {
			closed = append(closed, e)
		}
	}
	if len(closed) != len(msgs) {
		t.Fatalf("closed events: got %d; want %d", len(closed), len(msgs))
	}
	for _, e := range closed {
		want := int64(len(msgs[e.ConnID-1]))
		if e.BytesSent != want || e.BytesReceived != want || e.Duration <= 0 {
			t.Errorf("closed event #%d: sent %d, received %d, after %s; want %d each way and a duration", e.ConnID, e.BytesSent, e.BytesReceived, e.Duration, want)
		}
	}
	st := ln.Stats()
	if st.Total != 2 || st.BytesSent != int64(len(msgs[0])+len(msgs[1])) || st.BytesReceived != st.BytesSent {
		t.Fatalf("stats: got %+v; want 2 connections and every byte counted each way", st)
	}
}

// TestH2StreamErrorIsNotCanceled: a CONNECT stream the proxy resets fails
// with the stream's error, not one that says the context was canceled
// (front ends take a canceled error for the user's own stop).
func TestH2StreamErrorIsNotCanceled(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler) // RST_STREAM
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	dst, _ := tunnel.ParseDestination("tcp+https://"+srv.Listener.Addr().String()+"/echo.internal:7000", "")
	tn, err := tunnel.New(tunnel.Config{Destination: dst, TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	err = serveOne(t, tn)
	if err == nil || errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("got %v; want the stream error, not context canceled", err)
	}
}
