package loopback_test

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/porthole-dev/porthole/internal/loopback"
	"github.com/porthole-dev/porthole/internal/testutil"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestRelayEchoes: the benchmark's baseline carries bytes both ways at
// once, intact, through its TLS hop, and passes the half-close on.
func TestRelayEchoes(t *testing.T) {
	echo := listen(t)
	go loopback.Echo(echo)
	ca, cert := testutil.LoopbackCA(t)
	pool := ca.Pool
	far := listen(t)
	go loopback.RelayServer(far, &tls.Config{Certificates: []tls.Certificate{cert}}, echo.Addr().String())
	near := listen(t)
	go loopback.RelayClient(near, &tls.Config{RootCAs: pool}, far.Addr().String())

	for _, size := range []int64{0, 1, 5 << 20} {
		c, err := net.Dial("tcp", near.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		testutil.EchoCheck(t, c, size)
		c.Close()
	}
}

// TestMuxEchoes: the first-byte floor carries several streams over its
// one connection, plain or TLS, intact, and passes each half-close on
// both ways (the echo's end comes back only after ours reached it).
func TestMuxEchoes(t *testing.T) {
	ca, cert := testutil.LoopbackCA(t)
	pool := ca.Pool
	for _, withTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls"}[withTLS], func(t *testing.T) {
			echo := listen(t)
			go loopback.Echo(echo)
			back := listen(t)
			dial := func() (net.Conn, error) { return net.Dial("tcp", back.Addr().String()) }
			if withTLS {
				back = tls.NewListener(back, &tls.Config{Certificates: []tls.Certificate{cert}})
				dial = func() (net.Conn, error) {
					return tls.Dial("tcp", back.Addr().String(), &tls.Config{RootCAs: pool})
				}
			}
			go loopback.MuxBack(back, echo.Addr().String())
			front := listen(t)
			go loopback.MuxFront(front, dial)

			for _, size := range []int64{0, 1, 100 << 10, 1 << 20} {
				c, err := net.Dial("tcp", front.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				testutil.EchoCheck(t, c, size)
				c.Close()
			}
			// Streams at once, each its own bytes.
			done := make(chan struct{})
			for range 8 {
				go func() {
					defer func() { done <- struct{}{} }()
					c, err := net.Dial("tcp", front.Addr().String())
					if err != nil {
						t.Error(err)
						return
					}
					defer c.Close()
					testutil.EchoCheck(t, c, 64<<10)
				}()
			}
			for range 8 {
				<-done
			}
		})
	}
}
