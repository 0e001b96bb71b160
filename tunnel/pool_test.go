package tunnel_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/tunnel"
)

// TestH2PoolSpreadsWhenBusy: tunnels one after another share one HTTP/2
// connection; many open at once are spread over a small pool of them.
func TestH2PoolSpreadsWhenBusy(t *testing.T) {
	// Four CPUs' worth of pool, on one P at the moment: the size follows
	// the machine, not the P count the CLI lowers while lightly loaded.
	defer tunnel.SetCPUs(4)()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	p := startFakeProxy(t, true)
	var dials atomic.Int64
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr, CAPool: p.CAPool}, "echo.internal:7000"),
		TLSConfig:   &tls.Config{RootCAs: p.CAPool},
		Auth:        newAuth(t, p.CAPool, fakeBrowser(p)),
		NetDialer:   countingDialer(&dials),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Stop()
	for i := range 5 {
		if got, err := roundTrip(ln.Addr().String(), []byte("one at a time")); err != nil || string(got) != "one at a time" {
			t.Fatalf("connection %d: %q, %v", i, got, err)
		}
	}
	if got := dials.Load(); got != 1 {
		t.Fatalf("dials for tunnels one after another: %d; want 1 shared connection", got)
	}

	const n = 16
	var conns []net.Conn
	var mu sync.Mutex
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			if _, err := c.Write([]byte{1}); err != nil {
				t.Error(err)
				return
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// The pool grows in the background while busy, one dial at a time,
	// as tunnels open: open a few more, one every few milliseconds, until
	// it has grown past two (the limit on one P if it followed the P count
	// of the moment), far fewer than would fill two connections' streams.
	extra := 0
	waitFor(t, "a third pooled connection", func() bool {
		if dials.Load() >= 3 {
			return true
		}
		if extra++; extra > 40 {
			t.Fatalf("the pool stayed at %d connections with %d tunnels open", dials.Load(), n+extra)
		}
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return false
	})
	if got := dials.Load(); got > 4 {
		t.Fatalf("dials with %d tunnels open: %d; want a small pool (at most 4)", n, got)
	}
	// Each connection the pool grew by carried a tunnel at once: one
	// left idle after its preface is one pomerium-server hands to its
	// general HTTP/2 server instead of its tunnel server.
	used := func() int64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return int64(len(p.connectsFrom))
	}
	waitFor(t, "CONNECT on each connection dialed", func() bool { return used() == dials.Load() })
}

// TestH1ResumesTLS: a second HTTP/1.1 tunnel resumes the TLS session of
// the first instead of a full handshake.
func TestH1ResumesTLS(t *testing.T) {
	p := startFakeProxy(t, true)
	var resumed []bool
	var mu sync.Mutex
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr, CAPool: p.CAPool}, "echo.internal:7000"),
		TLSConfig: &tls.Config{RootCAs: p.CAPool, VerifyConnection: func(cs tls.ConnectionState) error {
			mu.Lock()
			resumed = append(resumed, cs.DidResume)
			mu.Unlock()
			return nil
		}},
		Auth:         newAuth(t, p.CAPool, fakeBrowser(p)),
		DisableHTTP2: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Stop()
	for i := range 3 {
		if got, err := roundTrip(ln.Addr().String(), []byte("again")); err != nil || string(got) != "again" {
			t.Fatalf("connection %d: %q, %v", i, got, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(resumed) < 3 || resumed[0] || !resumed[len(resumed)-1] {
		t.Fatalf("TLS handshakes resumed: %v; want a full first one, resumed ones after", resumed)
	}
}
