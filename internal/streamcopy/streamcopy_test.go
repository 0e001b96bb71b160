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
