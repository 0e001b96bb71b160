package sockio_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/sockio"
	"github.com/porthole-dev/porthole/internal/testutil/tcppair"
)

type countPool struct {
	mu       sync.Mutex
	out, got int
}

func (p *countPool) Get() *[]byte {
	p.mu.Lock()
	p.out++
	p.mu.Unlock()
	b := make([]byte, 16+64<<10)
	return &b
}

func (p *countPool) Put(*[]byte) {
	p.mu.Lock()
	p.got++
	p.mu.Unlock()
}

func (p *countPool) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out - p.got
}

func TestReadReady(t *testing.T) {
	a, b := tcppair.New(t)
	rc, err := b.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	pool := &countPool{}
	var bp *[]byte
	go a.Write([]byte("hello"))
	n, err := sockio.ReadReady(rc, pool, &bp, 16, 1024)
	if err != nil || n != 5 {
		t.Fatalf("ReadReady = %d, %v; want 5, nil", n, err)
	}
	if got := string((*bp)[16 : 16+n]); got != "hello" {
		t.Fatalf("read %q at the offset, want hello", got)
	}
	if h := pool.held(); h != 1 {
		t.Fatalf("%d buffers held after a read, want 1 (the one with the data)", h)
	}
	pool.Put(bp)
	bp = nil
	a.CloseWrite()
	if n, err := sockio.ReadReady(rc, pool, &bp, 16, 1024); n != 0 || err != io.EOF {
		t.Fatalf("after the peer's close: %d, %v; want 0, EOF", n, err)
	}
	if bp != nil {
		pool.Put(bp)
	}
	if h := pool.held(); h != 0 {
		t.Fatalf("%d buffers still out", h)
	}
}

func TestWriteNowTakesWhatFits(t *testing.T) {
	a, b := tcppair.New(t)
	a.SetWriteBuffer(4 << 10)
	b.SetReadBuffer(4 << 10)
	rc, err := a.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 8<<20)
	n, err := sockio.WriteNow(rc, big)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || n >= len(big) {
		t.Fatalf("WriteNow of 8 MiB to an unread socket took %d bytes, want some but not all", n)
	}
	// Full now: another write takes nothing, without waiting or failing.
	if m, err := sockio.WriteNow(rc, big); err != nil || m != 0 {
		// The kernel may have moved a little to the peer meanwhile.
		if err != nil {
			t.Fatalf("WriteNow on a full socket: %v", err)
		}
	}
	b.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := sockio.WriteNow(rc, big)
		if err != nil {
			var oe *net.OpError
			if !errors.As(err, &oe) {
				t.Fatalf("a failed write is %T, want *net.OpError", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("WriteNow to a closed peer never failed")
		}
		time.Sleep(10 * time.Millisecond) // polling for the peer's RST
	}
}

// pollRead polls ReadAvailable until it returns data (the bytes may still
// be on their way through loopback) or a deadline passes.
func pollRead(t *testing.T, c *net.TCPConn, p []byte) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n := sockio.ReadAvailable(rc, p); n > 0 {
			return n
		}
		runtime.Gosched()
	}
	return 0
}

func TestReadAvailable(t *testing.T) {
	t.Run("nothing yet", func(t *testing.T) {
		_, b := tcppair.New(t)
		rc, _ := b.SyscallConn()
		if n := sockio.ReadAvailable(rc, make([]byte, 16)); n != 0 {
			t.Fatalf("read %d bytes of nothing", n)
		}
	})
	t.Run("takes what is there, at most len(p)", func(t *testing.T) {
		a, b := tcppair.New(t)
		if _, err := a.Write([]byte("hello world")); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 5)
		if n := pollRead(t, b, p); n != 5 || string(p) != "hello" {
			t.Fatalf("read %d: %q", n, p[:n])
		}
		rest := make([]byte, 16)
		if n := pollRead(t, b, rest); string(rest[:n]) != " world" {
			t.Fatalf("rest %q", rest[:n])
		}
	})
	t.Run("leaves the end for the next read", func(t *testing.T) {
		a, b := tcppair.New(t)
		if _, err := a.Write([]byte("last")); err != nil {
			t.Fatal(err)
		}
		_ = a.CloseWrite()
		p := make([]byte, 16)
		if n := pollRead(t, b, p); string(p[:n]) != "last" {
			t.Fatalf("read %q", p[:n])
		}
		rc, _ := b.SyscallConn()
		if n := sockio.ReadAvailable(rc, p); n != 0 {
			t.Fatalf("read %d bytes past the end", n)
		}
		_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := b.Read(p); n != 0 || err != io.EOF {
			t.Fatalf("the next read: %d, %v; want the end", n, err)
		}
	})
	t.Run("leaves a reset for the next read", func(t *testing.T) {
		a, b := tcppair.New(t)
		_ = a.SetLinger(0)
		a.Close() // RST
		rc, _ := b.SyscallConn()
		_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
		p := make([]byte, 16)
		for range 3 {
			if n := sockio.ReadAvailable(rc, p); n != 0 {
				t.Fatalf("read %d bytes of a reset connection", n)
			}
		}
		if _, err := b.Read(p); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("the next read: %v; want connection reset", err)
		}
	})
	t.Run("empty p", func(t *testing.T) {
		a, b := tcppair.New(t)
		if _, err := a.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		rc, _ := b.SyscallConn()
		if n := sockio.ReadAvailable(rc, nil); n != 0 {
			t.Fatalf("read %d into nothing", n)
		}
	})
}
