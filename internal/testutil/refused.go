package testutil

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// RefusedAddr is a loopback address where every connection is refused for
// the rest of the test: a socket bound to it and never listening holds the
// port. A listener opened and closed at once leaves the port free, and
// another test's listener (or the server under test) can take it before
// the dial that should fail: a flake.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("refused address: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("refused address: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("refused address: %v", err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// FreeAddr is a loopback address free for the test to listen on: the port
// of a listener just closed. Another listener may take it first (the
// race RefusedAddr avoids); it serves a server that must be told its
// address before it starts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
