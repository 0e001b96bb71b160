package loadtest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

const mib = 1 << 20

// outcome is what the local application saw on one tunnel.
type outcome struct {
	sent, recv int64
	sentSum    [32]byte
	recvSum    [32]byte
	corrupt    bool  // a received byte differs from the one sent at that offset
	err        error // dial or read error: a failure the application sees
	werr       error // write error (also caused by our own close after a short read)
}

// intact: everything sent came back, same SHA-256, and the tunnel ended
// cleanly.
func (o outcome) intact(size int64) bool {
	return o.err == nil && o.werr == nil && !o.corrupt && o.sent == size && o.recv == size && o.sentSum == o.recvSum
}

// echo sends size pseudo-random bytes (seeded by id) through the tunnel
// at addr, half-closes, and reads the echo until it ends, comparing each
// byte with the one sent at its offset as it arrives.
func echo(addr string, id uint64, size int64, progress *atomic.Int64) outcome {
	var o outcome
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		o.err = fmt.Errorf("dial: %w", err)
		return o
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	seed := [32]byte{byte(id), byte(id >> 8), byte(id >> 16), 0x10}
	werr := make(chan error, 1)
	sentHash := sha256.New()
	go func() {
		n, err := io.Copy(c, io.TeeReader(io.LimitReader(rand.NewChaCha8(seed), size), sentHash))
		o.sent = n
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	want := rand.NewChaCha8(seed)
	got := sha256.New()
	buf, exp := make([]byte, 32<<10), make([]byte, 32<<10)
	var rerr error
	for {
		n, err := c.Read(buf)
		if n > 0 {
			got.Write(buf[:n])
			if o.recv+int64(n) > size {
				o.corrupt = true // more came back than was sent
			} else {
				want.Read(exp[:n])
				if !bytes.Equal(buf[:n], exp[:n]) {
					o.corrupt = true
				}
			}
			o.recv += int64(n)
			progress.Add(int64(n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = fmt.Errorf("read after %d bytes: %w", o.recv, err)
			break
		}
	}
	c.Close() // unblocks the writer if the read side ended first
	o.werr = <-werr
	o.err = rerr
	copy(o.sentSum[:], sentHash.Sum(nil))
	copy(o.recvSum[:], got.Sum(nil))
	return o
}

// run starts n tunnels with at most par at once, calling during(i) (if
// set) from the coordinating goroutine each time a tunnel finishes.
func run(addr string, n, par int, size int64, firstID uint64, progress *atomic.Int64, during func(done int)) []outcome {
	out := make([]outcome, n)
	sem := make(chan struct{}, par)
	fin := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = echo(addr, firstID+uint64(i), size, progress)
			<-sem
			fin <- i
		}()
	}
	go func() { wg.Wait(); close(fin) }()
	done := 0
	for range fin {
		done++
		if during != nil {
			during(done)
		}
	}
	return out
}

// TestThousandTunnels: 1,000 concurrent tunnels x 1 MiB through one
// pomerium-cli process to the dev server's echo, every byte compared
// (SHA-256 too), one sign-in for all of them.
func TestThousandTunnels(t *testing.T) {
	s := &devServer{bin: testutil.BuildBinary(t, "pomerium-server"), dir: t.TempDir(), addr: testutil.FreeAddr(t)}
	s.start(t)
	c := startClient(t, s)
	var progress atomic.Int64
	start := time.Now()
	out := run(c.addr, 1000, 1000, mib, 0, &progress, nil)
	elapsed := time.Since(start)
	var intact int
	var lost int64
	for i, o := range out {
		if o.intact(mib) {
			intact++
			continue
		}
		lost += mib - o.recv
		if i-intact < 5 { // the first few are enough to see what went wrong
			t.Errorf("tunnel %d: sent %d, received %d (corrupt=%v, SHA-256 match=%v): read: %v, write: %v", i, o.sent, o.recv, o.corrupt, o.sentSum == o.recvSum, o.err, o.werr)
		}
	}
	t.Logf("1000 tunnels x 1 MiB: %d intact, %d bytes lost, %s (%.0f MiB/s each way), %d sign-ins",
		intact, lost, elapsed.Round(time.Millisecond), float64(progress.Load())/mib/elapsed.Seconds(), c.browserRuns())
	if intact != 1000 || lost != 0 {
		t.Fatalf("%d of 1000 tunnels intact, %d bytes lost; want all, none lost\nclient: %s", intact, lost, tail(c.stderr.String()))
	}
	if got := c.browserRuns(); got != 1 {
		t.Errorf("sign-ins for 1000 concurrent tunnels: %d; want 1", got)
	}
}

// tail is the end of a long log, for failure messages.
func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}
