// Package tcppair gives tests a connected pair of loopback TCP
// connections, for code that reads and writes real sockets (raw system
// calls, the poller, half-closes) without a server around them.
package tcppair

import (
	"net"
	"testing"
)

// New is a connected loopback pair, closed at the end of t: what is
// written to the first is read from the second, and back.
func New(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	out, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	in := <-ch
	if in.err != nil {
		out.Close()
		t.Fatal(in.err)
	}
	t.Cleanup(func() { out.Close(); in.c.Close() })
	return out.(*net.TCPConn), in.c.(*net.TCPConn)
}
