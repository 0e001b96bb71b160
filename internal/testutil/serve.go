package testutil

import (
	"net"
	"testing"
)

// Serve accepts on ln until the test ends, running handle on each
// connection in a goroutine of its own, and returns ln's address.
func Serve(t testing.TB, ln net.Listener, handle func(net.Conn)) string {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr().String()
}
