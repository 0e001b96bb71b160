package tunnel_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/porthole-dev/porthole/internal/loopback"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

// The tunnel-* cases run against the in-process fake proxy
// (fakeproxy_test.go: real TLS on loopback, Go's HTTP/1.1 and HTTP/2
// servers, echo inside the proxy), so they measure the client; the
// *-devserver cases go through the real dev server to its echo upstream
// (one more TCP hop). Compare within a group: Throughput/direct-tcp and
// /plain-tls are the baselines for the tunnels (same payload, same kind of
// echo); Open/*-h1-new-conn versus /*-h2-warm-conn is the cost of a new
// tunnel with and without a TLS handshake.

const benchPayload = 16 << 20

// echoServer serves the loopback echo (the harness's too) on ln.
func echoServer(b *testing.B, ln net.Listener) {
	b.Cleanup(func() { ln.Close() })
	go loopback.Echo(ln)
}

// pump writes n bytes and reads the n echoed back at the same time.
func pump(b *testing.B, c net.Conn, n int64, buf []byte) {
	errc := make(chan error, 1)
	go func() {
		var sent int64
		for sent < n {
			m, err := c.Write(buf[:min(int64(len(buf)), n-sent)])
			sent += int64(m)
			if err != nil {
				errc <- err
				return
			}
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			errc <- cw.CloseWrite()
			return
		}
		errc <- nil
	}()
	got, err := io.Copy(io.Discard, c)
	if err != nil || got != n {
		b.Fatalf("echo: got %d bytes, %v; want %d", got, err, n)
	}
	if err := <-errc; err != nil {
		b.Fatalf("write: %v", err)
	}
}

// benchTunnel starts a listener for the fake's echo route with a token
// already cached, and one connection made, so the loop measures the
// steady state (for HTTP/2: the shared connection is warm).
func benchTunnel(b *testing.B, h1 bool) *tunnel.Listener {
	p := startFakeProxy(b, true)
	return benchListen(b, target{Addr: p.Addr, CAPool: p.CAPool}, h1)
}

// quietTB drops the dev server's debug log, which a benchmark would print.
type quietTB struct{ testing.TB }

func (quietTB) Logf(string, ...any) {}
func (quietTB) Log(...any)          {}

// benchDevTunnel is benchTunnel through the real dev server.
func benchDevTunnel(b *testing.B, h1 bool) *tunnel.Listener {
	d := testutil.StartDevServer(quietTB{b}, testutil.AutoLogin("dev@example.com"))
	return benchListen(b, target{Addr: d.Addr, CAPool: d.CAPool}, h1)
}

func benchListen(b *testing.B, p target, h1 bool) *tunnel.Listener {
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination:  echoDest(b, p, "echo.internal:7000"),
		TLSConfig:    &tls.Config{RootCAs: p.CAPool},
		Auth:         newAuth(b, p.CAPool, &browser{pool: p.CAPool}),
		DisableHTTP2: h1,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Stop() })
	if got, err := roundTrip(ln.Addr().String(), []byte("warm")); err != nil || string(got) != "warm" {
		b.Fatalf("warm-up: got %q, %v", got, err)
	}
	return ln
}

func BenchmarkThroughput(b *testing.B) {
	buf := make([]byte, 64<<10)
	run := func(b *testing.B, dial func() (net.Conn, error)) {
		b.SetBytes(benchPayload)
		b.ResetTimer()
		for b.Loop() {
			c, err := dial()
			if err != nil {
				b.Fatal(err)
			}
			pump(b, c, benchPayload, buf)
			c.Close()
		}
	}
	b.Run("direct-tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		echoServer(b, ln)
		run(b, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
	})
	b.Run("plain-tls", func(b *testing.B) {
		// httptest's certificate for 127.0.0.1, the same kind the fake uses.
		srv := httptest.NewTLSServer(nil)
		cert := srv.TLS.Certificates[0]
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		srv.Close()
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			b.Fatal(err)
		}
		echoServer(b, ln)
		run(b, func() (net.Conn, error) { return tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool}) })
	})
	for _, tc := range []struct {
		name  string
		h1    bool
		start func(*testing.B, bool) *tunnel.Listener
	}{
		{"tunnel-h1", true, benchTunnel},
		{"tunnel-h2", false, benchTunnel},
		{"tunnel-h1-devserver", true, benchDevTunnel},
		{"tunnel-h2-devserver", false, benchDevTunnel},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ln := tc.start(b, tc.h1)
			run(b, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
		})
	}
}

// BenchmarkOpen is the time to open a tunneled connection and get one
// byte echoed back.
func BenchmarkOpen(b *testing.B) {
	one := []byte{42}
	run := func(b *testing.B, addr string) {
		buf := make([]byte, 1)
		for b.Loop() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Write(one); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	}
	b.Run("direct-tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		echoServer(b, ln)
		run(b, ln.Addr().String())
	})
	b.Run("tunnel-h1-new-conn", func(b *testing.B) { run(b, benchTunnel(b, true).Addr().String()) })
	b.Run("tunnel-h2-warm-conn", func(b *testing.B) { run(b, benchTunnel(b, false).Addr().String()) })
	b.Run("devserver-h1-new-conn", func(b *testing.B) { run(b, benchDevTunnel(b, true).Addr().String()) })
	b.Run("devserver-h2-warm-conn", func(b *testing.B) { run(b, benchDevTunnel(b, false).Addr().String()) })
}
