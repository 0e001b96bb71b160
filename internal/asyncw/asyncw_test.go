package asyncw_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/asyncw"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestOrderAndFlushOnClose(t *testing.T) {
	var out lockedBuf
	w := asyncw.New(&out)
	var want strings.Builder
	buf := make([]byte, 0, 32)
	for i := range 5000 { // more than the queue holds: Write waits for room
		buf = fmt.Appendf(buf[:0], "line %d\n", i)
		w.Write(buf) // the caller reuses its buffer: the queue has a copy
		want.Write(buf)
	}
	w.Close()
	if out.String() != want.String() {
		t.Fatalf("after Close the writer has %d bytes, want the %d written, in order", len(out.String()), want.Len())
	}
	w.Write([]byte("late\n"))
	if !strings.HasSuffix(out.String(), "late\n") {
		t.Fatal("a Write after Close was not written at once")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// blocked takes nothing until released.
type blocked struct{ release chan struct{} }

func (b blocked) Write(p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

func TestWriteDoesNotWaitForTheWriter(t *testing.T) {
	b := blocked{release: make(chan struct{})}
	w := asyncw.New(b)
	done := make(chan struct{})
	go func() {
		for range 100 {
			w.Write([]byte("connected\n"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Writes waited for a writer that takes nothing")
	}
	close(b.release)
	w.Close()
}
