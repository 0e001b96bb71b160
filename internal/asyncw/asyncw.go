// Package asyncw hands writes to another goroutine, in order. The tunnel
// commands print a line per connection ("connecting", "connected",
// "closed"); written in the connection's own path, each is a system call
// to a terminal or a pipe before the first byte can go through, and a
// terminal that stops reading (scroll lock, a full pipe) would stall
// every new connection.
package asyncw

import (
	"io"
	"sync"
	"time"
)

// depth is how many writes may wait; beyond, Write waits for room.
const depth = 1024

// closeWait bounds how long Close waits for the queue to drain into a
// writer that takes nothing.
const closeWait = 2 * time.Second

// Writer writes to w from its own goroutine, in the order of the Writes.
type Writer struct {
	w    io.Writer
	ch   chan []byte
	done chan struct{}

	mu     sync.RWMutex // Close against Writes under way
	closed bool
}

// New starts the writing goroutine; Close ends it.
func New(w io.Writer) *Writer {
	a := &Writer{w: w, ch: make(chan []byte, depth), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *Writer) run() {
	defer close(a.done)
	for b := range a.ch {
		_, _ = a.w.Write(b)
	}
}

// Write queues a copy of p and reports it written. After Close it writes
// to w at once.
func (a *Writer) Write(p []byte) (int, error) {
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return a.w.Write(p)
	}
	a.ch <- append([]byte(nil), p...)
	a.mu.RUnlock()
	return len(p), nil
}

// Close writes what is queued (waiting at most a couple of seconds for w)
// and makes later Writes direct.
func (a *Writer) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.ch)
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-time.After(closeWait):
	}
	return nil
}
