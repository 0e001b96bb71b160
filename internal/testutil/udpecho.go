package testutil

import (
	"errors"
	"net"
	"testing"
)

// WithConfig gives the dev server more routes: yml is a pomerium-server
// configuration whose routes join the dev ones.
func WithConfig(yml string) DevOption { return func(o *devOptions) { o.config = yml } }

// StartUDPEcho starts a loopback UDP server that sends every datagram
// back to its sender, and returns its address. It stops with the test.
func StartUDPEcho(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String()
}
