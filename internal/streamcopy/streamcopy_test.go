package streamcopy_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/streamcopy"
	"github.com/porthole-dev/porthole/internal/testutil/tcppair"
)

// onlyReader hides every method but Read (the path for TLS and HTTP/2
// bodies, which cannot say data is waiting).
type onlyReader struct{ io.Reader }

func TestCopyAllBytes(t *testing.T) {
	for _, size := range []int{0, 1, 1023, 1024, 1025, streamcopy.BufSize - 1, streamcopy.BufSize + 1, 3<<20 + 7} {
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{byte(size)}).Read(data)
		for _, src := range []string{"tcp", "reader"} {
			var got bytes.Buffer
			var progressed int64
			var r streamcopy.Result
			if src == "tcp" {
				a, b := tcppair.New(t)
				go func() { a.Write(data); a.CloseWrite() }()
				r = streamcopy.Copy(&got, b, func(n int) { progressed += int64(n) })
			} else {
				r = streamcopy.Copy(&got, onlyReader{bytes.NewReader(data)}, func(n int) { progressed += int64(n) })
			}
			if r.Err() != nil || r.N != int64(size) || progressed != int64(size) || sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
				t.Errorf("%s, %d bytes: copied %d (progress %d), err %v, same bytes %v", src, size, r.N, progressed, r.Err(), bytes.Equal(got.Bytes(), data))
			}
		}
	}
}

// TestCopyReportsFailures: a reset source is a ReadErr, a failing
// destination a WriteErr; neither is taken for an end of stream.
func TestCopyReportsFailures(t *testing.T) {
	a, b := tcppair.New(t)
	a.Write([]byte("some bytes"))
	a.SetLinger(0)
	a.Close()
	r := streamcopy.Copy(io.Discard, b, nil)
	if !errors.Is(r.ReadErr, syscall.ECONNRESET) {
		t.Errorf("reset source: ReadErr %v; want ECONNRESET", r.ReadErr)
	}

	boom := errors.New("boom")
	r = streamcopy.Copy(failWriter{boom}, onlyReader{bytes.NewReader(make([]byte, 5000))}, nil)
	if !errors.Is(r.WriteErr, boom) || r.ReadErr != nil {
		t.Errorf("failing destination: %+v; want WriteErr boom", r)
	}

	c, d := tcppair.New(t)
	c.Close()
	_ = d.SetReadDeadline(time.Now().Add(-time.Second))
	r = streamcopy.Copy(io.Discard, d, nil)
	if r.ReadErr == nil {
		t.Errorf("read deadline passed: no ReadErr")
	}
}

// TestCopyAnswersEachMessage: bytes are passed on as soon as they are
// read, also when a message fills the small first buffer exactly and the
// peer then waits for the answer (an earlier version held them back for
// a second read that never came: a hang through HTTP/1.1 CONNECT tunnels
// and Go's HTTP/2 server, for any exchange of 1,024-byte messages).
func TestCopyAnswersEachMessage(t *testing.T) {
	for _, size := range []int{1, 1023, 1024, 1025, 2048, streamcopy.BufSize, streamcopy.BufSize + 1} {
		for _, src := range []string{"tcp", "reader"} {
			var r io.Reader
			var w io.WriteCloser
			if src == "tcp" {
				a, b := tcppair.New(t)
				r, w = b, a
			} else {
				pr, pw := io.Pipe()
				r, w = onlyReader{pr}, pw
			}
			out := make(chan []byte, 16)
			done := make(chan streamcopy.Result, 1)
			go func() { done <- streamcopy.Copy(chanWriter(out), r, nil) }()
			msg := bytes.Repeat([]byte{byte(size)}, size)
			for round := range 3 {
				go w.Write(msg) // a pipe's Write waits for the reads
				got := 0
				deadline := time.After(10 * time.Second)
				for got < size {
					select {
					case p := <-out:
						got += len(p)
					case <-deadline:
						t.Fatalf("%s, message %d of %d bytes: %d passed on after 10s; want all before the peer sends more", src, round, size, got)
					}
				}
			}
			w.Close()
			if res := <-done; res.Err() != nil || res.N != int64(3*size) {
				t.Errorf("%s, %d-byte messages: %+v; want %d bytes, no error", src, size, res, 3*size)
			}
		}
	}
}

// TestCopyKeepsBufferWhileBusy: a source that returns 16 KiB a read (a
// TLS connection: one record) is written 16 KiB at a time, not in 1 KiB
// pieces between them.
func TestCopyKeepsBufferWhileBusy(t *testing.T) {
	const total, record = 1 << 20, 16 << 10
	var w countWriter
	r := streamcopy.Copy(&w, &chunkReader{left: total, chunk: record}, nil)
	if r.Err() != nil || r.N != total {
		t.Fatalf("copied %d, err %v", r.N, r.Err())
	}
	if max := total/record + 2; w.writes > max {
		t.Errorf("%d writes for %d bytes read %d at a time; want at most %d", w.writes, total, record, max)
	}
}

// chunkReader returns chunk bytes a read (fewer at the end), then EOF.
type chunkReader struct{ left, chunk int }

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, c.left)
	c.left -= n
	return n, nil
}

type countWriter struct{ writes int }

func (c *countWriter) Write(p []byte) (int, error) { c.writes++; return len(p), nil }

// chanWriter sends a copy of each write.
type chanWriter chan []byte

func (c chanWriter) Write(p []byte) (int, error) {
	c <- append([]byte(nil), p...)
	return len(p), nil
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// BenchmarkCopy is the copy path alone: TCP to TCP on loopback, with this
// package against io.Copy; run with -benchmem (allocations per copy).
func BenchmarkCopy(b *testing.B) {
	const size = 8 << 20
	payload := make([]byte, 256<<10)
	for _, impl := range []struct {
		name string
		copy func(dst io.Writer, src io.Reader) (int64, error)
	}{
		{"streamcopy", func(dst io.Writer, src io.Reader) (int64, error) {
			r := streamcopy.Copy(dst, src, nil)
			return r.N, r.Err()
		}},
		{"streamcopy-reader", func(dst io.Writer, src io.Reader) (int64, error) {
			r := streamcopy.Copy(dst, onlyReader{src}, nil)
			return r.N, r.Err()
		}},
		{"io.Copy", func(dst io.Writer, src io.Reader) (int64, error) {
			return io.Copy(onlyWriter{dst}, src) // no splice: the same work as a TLS hop
		}},
	} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				a, in := tcppair.New(b)
				out, z := tcppair.New(b)
				go func() {
					for sent := 0; sent < size; sent += len(payload) {
						a.Write(payload)
					}
					a.CloseWrite()
				}()
				done := make(chan int64, 1)
				go func() { n, _ := io.Copy(io.Discard, z); done <- n }()
				if _, err := impl.copy(out, in); err != nil {
					b.Fatal(err)
				}
				out.CloseWrite()
				if n := <-done; n != size {
					b.Fatalf("copied %d of %d", n, size)
				}
			}
		})
	}
}

type onlyWriter struct{ io.Writer }
