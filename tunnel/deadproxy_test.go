package tunnel_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/tunnel"
)

// TestProxyEndsAbnormally: when the proxy side of a tunnel fails (a reset
// stream or TCP connection, a TLS stream cut without close_notify, a lost
// HTTP/2 connection), the local application sees a reset, not an end of
// stream, and the failure is reported; an orderly end still half-closes.
func TestProxyEndsAbnormally(t *testing.T) {
	p := startFakeProxy(t, true)
	for _, proto := range []struct {
		name string
		h1   bool
	}{{"http1", true}, {"http2", false}} {
		for _, tc := range []struct {
			name, authority string
			reset           bool
		}{
			{"reset", "rst.internal:7005", true},
			{"cut", "cut.internal:7006", true},
			{"orderly", "echo.internal:7000", false},
		} {
			t.Run(proto.name+"/"+tc.name, func(t *testing.T) {
				log := &eventLog{}
				ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
					Destination:  echoDest(t, target{Addr: p.Addr, CAPool: p.CAPool}, tc.authority),
					TLSConfig:    &tls.Config{RootCAs: p.CAPool},
					Auth:         newAuth(t, p.CAPool, fakeBrowser(p)),
					DisableHTTP2: proto.h1,
					OnEvent:      log.add,
				})
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Stop()
				c := dialEchoed(t, ln.Addr().String())
				defer c.Close()
				if tc.reset {
					if _, err := c.Write([]byte("now")); err != nil { // the fake fails at this
						t.Fatal(err)
					}
				} else if err := c.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
				_, err = io.ReadAll(c)
				if tc.reset {
					if !errors.Is(err, syscall.ECONNRESET) {
						t.Fatalf("local read after the proxy side failed: %v; want a connection reset", err)
					}
					waitProxyEndedEvent(t, log)
					return
				}
				if err != nil {
					t.Fatalf("local read after an orderly end: %v; want EOF", err)
				}
				waitEvent(t, log, tunnel.EventClosed)
				for _, e := range log.all() {
					if e.Kind == tunnel.EventError {
						t.Fatalf("orderly end reported an error: %v", e.Err)
					}
				}
			})
		}
	}
}

// dialEchoed connects to a tunnel and checks one message comes back, so
// the tunnel is open end to end.
func dialEchoed(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	msg := []byte("before the end")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo before the end: %q, %v", got, err)
	}
	return c
}

func waitEvent(t *testing.T, log *eventLog, k tunnel.EventKind) {
	t.Helper()
	waitFor(t, "a "+string(k)+" event", func() bool { return log.count(k) > 0 })
}

func waitProxyEndedEvent(t *testing.T, log *eventLog) {
	t.Helper()
	waitFor(t, "an error event for the proxy's failure", func() bool {
		for _, e := range log.all() {
			if e.Kind == tunnel.EventError && errors.Is(e.Err, tunnel.ErrProxyEnded) {
				return true
			}
		}
		return false
	})
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute", what)
		}
		<-tick.C
	}
}
