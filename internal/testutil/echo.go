package testutil

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// EchoCheck sends size pseudo-random bytes through c (a TCP connection to
// an echo, directly or through a tunnel), half-closes it, reads until the
// echo closes, and fails the test unless the same number of bytes with the
// same SHA-256 came back. Writing and reading run at once, so a tunnel
// that does not stream both ways at the same time stalls and fails.
func EchoCheck(t testing.TB, c net.Conn, size int64) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	sent := sha256.New()
	werr := make(chan error, 1)
	go func() {
		rng := rand.NewChaCha8([32]byte{4, 2})
		_, err := io.Copy(c, io.TeeReader(io.LimitReader(rng, size), sent))
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got := sha256.New()
	n, err := io.Copy(got, c)
	if err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("echo: got %d bytes, SHA-256 %x; want %d bytes, %x", n, got.Sum(nil), size, sent.Sum(nil))
	}
}
