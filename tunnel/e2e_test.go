package tunnel_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

func echoDest(t testing.TB, d target, route string) tunnel.Destination {
	t.Helper()
	dst, err := tunnel.ParseDestination("tcp+https://"+d.Addr+"/"+route, "")
	if err != nil {
		t.Fatalf("ParseDestination: %v", err)
	}
	return dst
}

// TestEcho64MiB carries 64 MiB each way, both directions at once, through
// the dev server's echo route, over HTTP/1.1 and over HTTP/2.
func TestEcho64MiB(t *testing.T) {
	for _, d := range targets(t, "dev@example.com") {
		t.Run(d.name, func(t *testing.T) { testEcho(t, d, 64<<20) })
	}
}

func testEcho(t *testing.T, d target, size int64) {
	b := &browser{pool: d.CAPool}
	auth := newAuth(t, d.CAPool, b)
	for _, tc := range []struct {
		name  string
		h1    bool
		proto string
	}{{"http1", true, "http/1.1"}, {"http2", false, "h2"}} {
		t.Run(tc.name, func(t *testing.T) {
			var dials atomic.Int64
			var protos sync.Map
			events := &eventLog{}
			cfg := tunnel.Config{
				OnEvent:      events.add,
				Destination:  echoDest(t, d, "echo.internal:7000"),
				TLSConfig:    &tls.Config{RootCAs: d.CAPool, VerifyConnection: func(cs tls.ConnectionState) error { protos.Store(cs.NegotiatedProtocol, true); return nil }},
				Auth:         auth,
				DisableHTTP2: tc.h1,
				NetDialer:    countingDialer(&dials),
			}
			ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", cfg)
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			defer ln.Stop()

			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			testutil.EchoCheck(t, c, size)
			_, gotH2 := protos.Load("h2")
			if gotH2 != (tc.proto == "h2") {
				t.Fatalf("negotiated protocols: %q; want only %s", keys(&protos), tc.proto)
			}
			// The counters move just after each chunk is written on, so the
			// last echoed bytes can reach the reader a moment before the
			// count does: poll.
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
				st := ln.Stats()
				if st.BytesSent == size && st.BytesReceived == size && st.Total == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("stats: got %+v; want %d bytes each way, 1 connection", st, size)
				}
			}
			// The closed event counts every byte too (the tunnel ends once the
			// echo's half-close has reached the local side).
			waitFor(t, "closed event", func() bool { return events.count(tunnel.EventClosed) == 1 })
			for _, e := range events.all() {
				if e.Kind == tunnel.EventClosed && (e.BytesSent != size || e.BytesReceived != size) {
					t.Fatalf("closed event: sent %d, received %d; want %d each way", e.BytesSent, e.BytesReceived, size)
				}
			}
		})
	}
	if n := b.opens.Load(); n != 1 {
		t.Fatalf("sign-ins: got %d; want 1 (the second protocol reuses the cached token)", n)
	}
}

func keys(m *sync.Map) []string {
	var ks []string
	m.Range(func(k, _ any) bool { ks = append(ks, k.(string)); return true })
	return ks
}

// TestFiftyConnectionsOneSignIn opens 50 connections at once before any
// token exists: exactly one sign-in, and every connection works.
func TestFiftyConnectionsOneSignIn(t *testing.T) {
	for _, d := range targets(t, "dev@example.com") {
		t.Run(d.name, func(t *testing.T) { testFifty(t, d) })
	}
}

func testFifty(t *testing.T, d target) {
	for _, tc := range []struct {
		name      string
		h1        bool
		wantDials int64 // at most
	}{{"http1", true, 100}, {"http2", false, 4}} { // h2: a small pool once busy
		t.Run(tc.name, func(t *testing.T) {
			b := &browser{pool: d.CAPool}
			var dials atomic.Int64
			log := &eventLog{}
			ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
				Destination:  echoDest(t, d, "echo.internal:7000"),
				TLSConfig:    &tls.Config{RootCAs: d.CAPool},
				Auth:         newAuth(t, d.CAPool, b),
				DisableHTTP2: tc.h1,
				NetDialer:    countingDialer(&dials),
				OnEvent:      log.add,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			const n = 50
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg := []byte(fmt.Sprintf("hello from connection %d", i))
					got, err := roundTrip(ln.Addr().String(), msg)
					if err == nil && !bytes.Equal(got, msg) {
						err = fmt.Errorf("connection %d: got %q; want %q", i, got, msg)
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if got := b.opens.Load(); got != 1 {
				t.Fatalf("sign-ins: got %d; want 1", got)
			}
			if got := log.count(tunnel.EventConnected); got != n {
				t.Fatalf("connected events: got %d; want %d", got, n)
			}
			if got := log.count(tunnel.EventSignIn); got < 1 {
				t.Fatalf("signin events: got %d; want at least 1", got)
			}
			if got := dials.Load(); got > tc.wantDials {
				t.Fatalf("TCP dials to the proxy: got %d; want at most %d", got, tc.wantDials)
			}
		})
	}
}

// TestRestartSignsInAgain: after the server restarts with new keys the
// cached token gets 401; one new sign-in follows and the tunnel works.
func TestRestartSignsInAgain(t *testing.T) {
	for _, d := range targets(t, "dev@example.com") {
		t.Run(d.name, func(t *testing.T) { testRestart(t, d) })
	}
}

func testRestart(t *testing.T, d target) {
	for _, tc := range []struct {
		name string
		h1   bool
	}{{"http1", true}, {"http2", false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := &browser{pool: d.CAPool}
			auth := newAuth(t, d.CAPool, b)
			ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
				Destination:  echoDest(t, d, "echo.internal:7000"),
				TLSConfig:    &tls.Config{RootCAs: d.CAPool},
				Auth:         auth,
				DisableHTTP2: tc.h1,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			check := func(step string) {
				t.Helper()
				got, err := roundTrip(ln.Addr().String(), []byte(step))
				if err != nil || string(got) != step {
					t.Fatalf("%s: got %q, %v; want %q", step, got, err, step)
				}
			}
			check("before restart")
			old, _ := auth.CachedToken(context.Background(), d.URL)
			d.restart(t)
			check("after restart")
			if got := b.opens.Load(); got != 2 {
				t.Fatalf("sign-ins: got %d; want 2 (one before, one after the restart)", got)
			}
			now, _ := auth.CachedToken(context.Background(), d.URL)
			if now == "" || now == old {
				t.Fatalf("cached token after restart: want a new one (changed=%v, empty=%v)", now != old, now == "")
			}
		})
	}
}

// TestRefusals: each refusal ends that connection with a clear message.
func TestRefusals(t *testing.T) {
	for _, guest := range targets(t, "guest@example.com") {
		t.Run(guest.name, func(t *testing.T) { testRefusals(t, guest) })
	}
}

func testRefusals(t *testing.T, guest target) {
	unreachable := testutil.RefusedAddr(t)
	for _, tc := range []struct {
		name string
		dest string
		tls  *tls.Config
		want []string
	}{
		{"admin-echo as guest", "tcp+https://" + guest.Addr + "/admin-echo.internal:7001", &tls.Config{RootCAs: guest.CAPool}, []string{"access denied", "admin-echo.internal:7001", "(403)"}},
		{"no such route", "tcp+https://" + guest.Addr + "/nowhere.internal:9", &tls.Config{RootCAs: guest.CAPool}, []string{"no route for nowhere.internal:9", "(404)"}},
		{"wrong CA", "tcp+https://" + guest.Addr + "/echo.internal:7000", &tls.Config{RootCAs: x509.NewCertPool()}, []string{"TLS handshake with " + guest.Addr, "x509", "certificate signed by unknown authority"}},
		{"unreachable proxy", "tcp+https://" + unreachable + "/echo.internal:7000", nil, []string{"dialing proxy " + unreachable, "connection refused"}},
	} {
		for _, h1 := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/h1=%v", tc.name, h1), func(t *testing.T) {
				dst, err := tunnel.ParseDestination(tc.dest, "")
				if err != nil {
					t.Fatal(err)
				}
				tn, err := tunnel.New(tunnel.Config{Destination: dst, TLSConfig: tc.tls, Auth: newAuth(t, guest.CAPool, &browser{pool: guest.CAPool}), DisableHTTP2: h1})
				if err != nil {
					t.Fatal(err)
				}
				defer tn.Close()
				err = serveOne(t, tn)
				if err == nil {
					t.Fatal("ServeConn: got nil error; want a refusal")
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error: got %q; want it to contain %q", err, w)
					}
				}
			})
		}
	}
}

// TestForwardProxy: the tunnel dials through a CONNECT forward proxy.
func TestForwardProxy(t *testing.T) {
	for _, d := range targets(t, "dev@example.com") {
		t.Run(d.name, func(t *testing.T) { testForwardProxy(t, d) })
	}
}

func testForwardProxy(t *testing.T, d target) {
	fp := testutil.StartForwardProxy(t, nil)
	b := &browser{pool: d.CAPool}
	auth := newAuth(t, d.CAPool, b)
	for _, h1 := range []bool{true, false} {
		t.Run(fmt.Sprintf("h1=%v", h1), func(t *testing.T) {
			before := fp.Uses()
			ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
				Destination:  echoDest(t, d, "echo.internal:7000"),
				TLSConfig:    &tls.Config{RootCAs: d.CAPool},
				Auth:         auth,
				DisableHTTP2: h1,
				Proxy:        http.ProxyURL(fp.URL),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			got, err := roundTrip(ln.Addr().String(), []byte("via the forward proxy"))
			if err != nil || string(got) != "via the forward proxy" {
				t.Fatalf("echo: got %q, %v", got, err)
			}
			if n := fp.Uses() - before; n < 1 {
				t.Fatalf("forward proxy CONNECTs: got %d; want at least 1", n)
			}
			if tgt := fp.Last(); tgt != d.Addr {
				t.Fatalf("forward proxy CONNECT target: got %q; want %q", tgt, d.Addr)
			}
		})
	}
}

// TestRefusalsKeepToken: 403 and 404 end that connection with an error
// event and a clear message, and keep the token already cached (no new
// sign-in, the same token afterwards).
func TestRefusalsKeepToken(t *testing.T) {
	for _, guest := range targets(t, "guest@example.com") {
		t.Run(guest.name, func(t *testing.T) { testRefusalsKeepToken(t, guest) })
	}
}

func testRefusalsKeepToken(t *testing.T, guest target) {
	b := &browser{pool: guest.CAPool}
	auth := newAuth(t, guest.CAPool, b)
	before, err := auth.Token(context.Background(), guest.URL, nil)
	if err != nil || before == "" {
		t.Fatalf("signing in first: got %q, %v", before, err)
	}
	for _, tc := range []struct {
		name, authority, want string
		is                    func(error) bool
	}{
		{"403", "admin-echo.internal:7001", "access denied", tunnel.IsAccessDenied},
		{"404", "nowhere.internal:9", "no route for nowhere.internal:9", tunnel.IsNoRoute},
	} {
		for _, h1 := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/h1=%v", tc.name, h1), func(t *testing.T) {
				log := &eventLog{}
				tn, err := tunnel.New(tunnel.Config{Destination: echoDest(t, guest, tc.authority), TLSConfig: &tls.Config{RootCAs: guest.CAPool},
					Auth: auth, DisableHTTP2: h1, OnEvent: log.add})
				if err != nil {
					t.Fatal(err)
				}
				defer tn.Close()
				err = serveOne(t, tn)
				if err == nil || !tc.is(err) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("ServeConn: got %v; want a %s refusal containing %q", err, tc.name, tc.want)
				}
				var errEvents []tunnel.Event
				for _, e := range log.all() {
					if e.Kind == tunnel.EventError {
						errEvents = append(errEvents, e)
					}
				}
				if len(errEvents) != 1 || errEvents[0].Err == nil || errEvents[0].Err.Error() != err.Error() || errEvents[0].ConnID == 0 {
					t.Fatalf("error events: got %v; want one for this connection carrying %q", errEvents, err)
				}
				if log.count(tunnel.EventConnected) != 0 || log.count(tunnel.EventSignIn) != 0 {
					t.Fatalf("events: got %v; want no connected and no sign-in", log.all())
				}
				after, err := auth.CachedToken(context.Background(), guest.URL)
				if err != nil || after != before {
					t.Fatalf("cached token after the refusal: changed=%v, err %v; want the same token kept", after != before, err)
				}
				if got := b.opens.Load(); got != 1 {
					t.Fatalf("sign-ins: got %d; want 1 (the refusal is not the token's fault)", got)
				}
			})
		}
	}
}
