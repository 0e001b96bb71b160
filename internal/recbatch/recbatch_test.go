package recbatch_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/porthole-dev/porthole/internal/recbatch"
	"github.com/porthole-dev/porthole/server/devca"
)

// countConn counts the writes that reach the socket.
type countConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
	fail   error
}

func (c *countConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		return 0, fail
	}
	return c.Conn.Write(p)
}

func (c *countConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// tlsPair is a real TLS connection over loopback TCP whose server side
// writes through a recbatch.Conn over a countConn.
func tlsPair(t *testing.T) (srv net.Conn, counted *countConn, cli *tls.Conn) {
	t.Helper()
	ca, err := devca.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	type res struct {
		c   net.Conn
		cc  *countConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- res{err: err}
			return
		}
		cc := &countConn{Conn: raw}
		tc := tls.Server(recbatch.New(cc), &tls.Config{Certificates: []tls.Certificate{cert}})
		err = tc.Handshake()
		ch <- res{recbatch.WrapTLS(tc), cc, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cli = tls.Client(raw, &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"})
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close(); cli.Close() })
	return r.c, r.cc, cli
}

func TestOneWriteOneSyscall(t *testing.T) {
	for _, size := range []int{1, 16 << 10, 64 << 10, 200 << 10} {
		srv, cc, cli := tlsPair(t)
		if _, ok := srv.(*recbatch.TLS); !ok {
			t.Fatalf("WrapTLS over a recbatch.Conn gave %T", srv)
		}
		msg := bytes.Repeat([]byte{'a' + byte(size%26)}, size)
		before := cc.count()
		go srv.Write(msg)
		got := make([]byte, size)
		if _, err := io.ReadFull(cli, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: the data came back changed", size)
		}
		// Over 16 KiB is several TLS records: still one write.
		if n := cc.count() - before; n != 1 {
			t.Errorf("a Write of %d bytes reached the socket in %d writes, want 1", size, n)
		}
	}
}

func TestLargeWriteFlushesEarly(t *testing.T) {
	srv, cc, cli := tlsPair(t)
	size := 3*recbatch.MaxBatch + 100
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	before := cc.count()
	go srv.Write(msg)
	got := make([]byte, size)
	if _, err := io.ReadFull(cli, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the data came back changed or out of order")
	}
	// Bounded: at most MaxBatch (plus one record) held at once.
	if n := cc.count() - before; n < 3 || n > 5 {
		t.Errorf("a Write of %d bytes took %d socket writes, want 3 to 5", size, n)
	}
}

func TestFailedFlushIsReported(t *testing.T) {
	srv, cc, _ := tlsPair(t)
	boom := errors.New("boom")
	cc.mu.Lock()
	cc.fail = boom
	cc.mu.Unlock()
	if _, err := srv.Write(make([]byte, 40<<10)); !errors.Is(err, boom) {
		t.Fatalf("Write over a failing socket: %v, want %v", err, boom)
	}
	if _, err := srv.Write([]byte("x")); err == nil {
		t.Fatal("a Write after a failed one succeeded")
	}
}

// Batches nest (a batch inside a batch flushes once, at the outer end)
// and a write outside any batch goes after what is pending.
func TestNestedBatchesKeepOrder(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	cc := &countConn{Conn: a}
	c := recbatch.New(cc)
	got := make(chan []byte, 1)
	go func() {
		buf, _ := io.ReadAll(b)
		got <- buf
	}()
	c.Batch()
	c.Write([]byte("one "))
	c.Batch()
	c.Write([]byte("two "))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := cc.count(); n != 0 {
		t.Fatalf("an inner Flush wrote %d times with the outer batch open", n)
	}
	c.Write([]byte("three "))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("four"))
	a.Close()
	if s := string(<-got); s != "one two three four" {
		t.Fatalf("the peer read %q", s)
	}
	if n := cc.count(); n != 2 {
		t.Fatalf("%d socket writes, want 2 (the batch, then the lone write)", n)
	}
}
