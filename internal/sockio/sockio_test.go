package sockio_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/sockio"
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

func tcpPair(t *testing.T) (a, b *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-ch
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func TestReadReady(t *testing.T) {
	a, b := tcpPair(t)
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
	a, b := tcpPair(t)
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
