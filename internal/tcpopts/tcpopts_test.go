package tcpopts

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestKeepAlive(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:80":         true,
		"127.3.2.1:80":         true,
		"[::1]:5432":           true,
		"[::ffff:127.0.0.1]:1": true,
		"localhost:22":         true,
		"LOCALHOST.:22":        true,
		"127.0.0.1":            true,
		"10.0.0.1:80":          false,
		"0.0.0.0:0":            false,
		"[::]:0":               false,
		"db.example:5432":      false,
		"localhost.example:1":  false,
		":8080":                false,
		"":                     false,
	} {
		if got := KeepAlive(addr) < 0; got != want {
			t.Errorf("KeepAlive(%q) off = %v, want %v", addr, got, want)
		}
	}
}

// dialNow dials addr with ConnectNow as the dialer's Control.
func dialNow(t *testing.T, network, addr string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: ConnectNow}
	return d.DialContext(context.Background(), network, addr)
}

func TestConnectNowLoopback(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			host := "127.0.0.1"
			if network == "tcp6" {
				host = "::1"
			}
			ln, err := net.Listen(network, net.JoinHostPort(host, "0"))
			if err != nil {
				t.Skipf("no %s loopback here: %v", network, err) // a host without IPv6
			}
			defer ln.Close()
			got := make(chan string, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					got <- err.Error()
					return
				}
				defer c.Close()
				b := make([]byte, 5)
				_, err = io.ReadFull(c, b)
				if err != nil {
					got <- err.Error()
					return
				}
				got <- string(b)
			}()
			c, err := dialNow(t, "tcp", ln.Addr().String())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if c.RemoteAddr().String() != ln.Addr().String() {
				t.Fatalf("connected to %s, want %s", c.RemoteAddr(), ln.Addr())
			}
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			if s := <-got; s != "hello" {
				t.Fatalf("listener read %q", s)
			}
		})
	}
}

func TestConnectNowRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := dialNow(t, "tcp", addr)
	if err == nil {
		c.Close()
		t.Fatal("dial to a closed port succeeded")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want connection refused", err)
	}
}

// A non-loopback address is left to the dialer: ConnectNow must not
// connect the socket.
func TestConnectNowLeavesOtherAddresses(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp4", "192.0.2.1:80"}, // TEST-NET-1: never dialed here
		{"tcp6", "[2001:db8::1]:80"},
		{"tcp4", "not an address"},
		{"udp4", "127.0.0.1:53"},
	} {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(fd), "sock")
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		if err := ConnectNow(tc.network, tc.addr, rc); err != nil {
			t.Errorf("ConnectNow(%s, %s) = %v, want nil", tc.network, tc.addr, err)
		}
		if _, err := syscall.Getpeername(fd); !errors.Is(err, syscall.ENOTCONN) {
			t.Errorf("ConnectNow(%s, %s) connected the socket (getpeername: %v)", tc.network, tc.addr, err)
		}
		f.Close()
	}
}

// On a loopback address ConnectNow starts the connect itself: the
// dialer's own connect then finds it done (nil, as Linux answers the
// first connect after the handshake, or EISCONN) or under way
// (EALREADY), never a fresh socket (EINPROGRESS).
func TestConnectNowStartsLoopbackConnect(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "sock")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := ConnectNow("tcp4", ln.Addr().String(), rc); err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	err = syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	if err != nil && !errors.Is(err, syscall.EISCONN) && !errors.Is(err, syscall.EALREADY) {
		t.Fatalf("second connect: %v, want nil, EISCONN or EALREADY", err)
	}
}
