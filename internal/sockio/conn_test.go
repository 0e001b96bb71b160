package sockio_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/sockio"
	"github.com/porthole-dev/porthole/internal/testutil/tcppair"
)

// kinds are the two connections every case runs on: package net's own,
// and sockio's raw-call Conn over the same kind of socket. They must
// behave alike.
var kinds = []struct {
	name string
	wrap func(*net.TCPConn) net.Conn
}{
	{"net.TCPConn", func(c *net.TCPConn) net.Conn { return c }},
	{"sockio.Conn", func(c *net.TCPConn) net.Conn { return sockio.Wrap(c) }},
}

func TestConnIsWrapped(t *testing.T) {
	a, _ := tcppair.New(t)
	w := sockio.Wrap(a)
	if _, ok := w.(*sockio.Conn); !ok {
		t.Fatalf("Wrap(*net.TCPConn) = %T, want *sockio.Conn", w)
	}
	if sockio.TCP(w) != a || sockio.TCP(a) != a {
		t.Fatal("TCP does not give back the *net.TCPConn")
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if sockio.Wrap(p1) != p1 {
		t.Fatal("Wrap changed a connection that is not TCP")
	}
	if sockio.TCP(p1) != nil {
		t.Fatal("TCP of a pipe is not nil")
	}
	// What a caller reaches for on the TCP connection is still there.
	if _, ok := w.(interface{ CloseWrite() error }); !ok {
		t.Fatal("Conn lost CloseWrite")
	}
	if _, ok := w.(interface{ SetLinger(int) error }); !ok {
		t.Fatal("Conn lost SetLinger")
	}
	rc, err := w.(*sockio.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	if err := rc.Control(func(f uintptr) { fd = f }); err != nil || fd == 0 {
		t.Fatalf("SyscallConn's Control: fd %d, %v", fd, err)
	}
}

// A write far larger than the socket buffers waits in the poller and
// completes; every byte arrives in order.
func TestConnBulkBothWays(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			a, b := tcppair.New(t)
			// Small buffers: the write meets a full socket many times.
			a.SetWriteBuffer(32 << 10)
			b.SetReadBuffer(32 << 10)
			ca, cb := k.wrap(a), k.wrap(b)
			want := make([]byte, 8<<20)
			rand.Read(want)
			errc := make(chan error, 1)
			go func() {
				n, err := ca.Write(want)
				if err == nil && n != len(want) {
					err = errors.New("short write")
				}
				if err == nil {
					err = a.CloseWrite()
				}
				errc <- err
			}()
			got, err := io.ReadAll(cb)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if werr := <-errc; werr != nil {
				t.Fatalf("Write: %v", werr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, not the %d written", len(got), len(want))
			}
			// An empty read returns at once, as package net's does.
			if n, err := cb.Read(nil); n != 0 || err != nil {
				t.Fatalf("Read(nil) = %d, %v", n, err)
			}
		})
	}
}

// The ends and failures come back as package net reports them: the same
// operation, the same error underneath, the same Timeout.
func TestConnErrorsMatchNet(t *testing.T) {
	type outcome struct {
		op      string
		eof     bool
		closed  bool
		timeout bool
		reset   bool
		n       int
	}
	cases := []struct {
		name string
		run  func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error)
	}{
		{"read after the peer's end", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			b.CloseWrite()
			return ca.Read(make([]byte, 8))
		}},
		{"read past its deadline", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			ca.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			return ca.Read(make([]byte, 8))
		}},
		{"read after our Close", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			ca.Close()
			return ca.Read(make([]byte, 8))
		}},
		{"read when Close comes while waiting", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			time.AfterFunc(20*time.Millisecond, func() { ca.Close() })
			return ca.Read(make([]byte, 8))
		}},
		{"read after the peer's reset", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			b.SetLinger(0)
			b.Close()
			return readUntilErr(ca)
		}},
		{"write after our Close", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			ca.Close()
			return ca.Write([]byte("x"))
		}},
		{"write past its deadline", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			big := make([]byte, 64<<20)
			ca.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			// Nobody reads b: the buffers fill, then the deadline ends it.
			n, err := ca.Write(big)
			if n >= len(big) {
				t.Errorf("wrote all %d bytes though nobody reads", n)
			}
			return 0, err // n varies with buffer sizes and timing
		}},
		{"write after the peer's reset", func(t *testing.T, a, b *net.TCPConn, ca net.Conn) (int, error) {
			b.SetLinger(0)
			b.Close()
			return writeUntilErr(ca)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got [2]outcome
			for i, k := range kinds {
				a, b := tcppair.New(t)
				ca := k.wrap(a)
				n, err := c.run(t, a, b, ca)
				if err == nil {
					t.Fatalf("%s: no error", k.name)
				}
				o := outcome{n: n, eof: err == io.EOF, closed: errors.Is(err, net.ErrClosed),
					timeout: errors.Is(err, os.ErrDeadlineExceeded),
					reset:   errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)}
				var oe *net.OpError
				if errors.As(err, &oe) {
					o.op = oe.Op
					if ne, ok := err.(net.Error); !ok || ne.Timeout() != o.timeout {
						t.Errorf("%s: Timeout() disagrees with the deadline error: %v", k.name, err)
					}
					if oe.Net != "tcp" || oe.Source == nil || oe.Addr == nil {
						t.Errorf("%s: OpError %+v lacks the network or the addresses", k.name, oe)
					}
				}
				got[i] = o
			}
			if got[0] != got[1] {
				t.Fatalf("net.TCPConn: %+v\nsockio.Conn: %+v", got[0], got[1])
			}
			if got[0].op == "" && !got[0].eof {
				t.Fatalf("neither an end nor an *net.OpError: %+v", got[0])
			}
		})
	}
}

// readUntilErr reads until the reset shows (it may take the socket a
// moment to see it).
func readUntilErr(c net.Conn) (int, error) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for {
		if _, err := c.Read(buf); err != nil {
			return 0, err
		}
	}
}

// writeUntilErr writes until the reset shows: the first write after a
// reset may still be taken.
func writeUntilErr(c net.Conn) (int, error) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	for i := 0; ; i++ {
		if _, err := c.Write([]byte("x")); err != nil {
			return 0, err
		}
		time.Sleep(time.Millisecond)
		if i > 5000 {
			return 0, nil
		}
	}
}

// TestConnAllocFree: a Read and a Write allocate nothing; the functions
// handed to the RawConn are made once per Conn. A closure per call was
// three allocations per system call, half of a TLS bulk transfer's.
func TestConnAllocFree(t *testing.T) {
	if sockio.RaceEnabled {
		t.Skip("the race detector's bookkeeping allocates; the count is for the raw calls")
	}
	a, b := tcppair.New(t)
	w, r := sockio.Wrap(a), sockio.Wrap(b)
	out, in := bytes.Repeat([]byte("x"), 4096), make([]byte, 4096)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := w.Write(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Write and ReadFull, want 0", allocs)
	}
}
