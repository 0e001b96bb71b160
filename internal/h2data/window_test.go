package h2data_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/h2data"
)

// windows is one stream's and its connection's send state, as a side of
// the tunnel keeps it.
type windows struct {
	mu           sync.Mutex
	cond         *sync.Cond
	stream, conn int64
	frame        int
	dead         bool
	connErr      error
}

func newWindows(stream, conn int64, frame int) *windows {
	w := &windows{stream: stream, conn: conn, frame: frame}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *windows) send() h2data.SendWindows {
	return h2data.SendWindows{Cond: w.cond, Stream: &w.stream, Conn: &w.conn, Frame: &w.frame, Dead: &w.dead, ConnErr: &w.connErr}
}

// change changes the state under its lock and wakes the waiters, as the
// reader does for WINDOW_UPDATE and resets.
func (w *windows) change(f func()) {
	w.mu.Lock()
	f()
	w.cond.Broadcast()
	w.mu.Unlock()
}

var errStopped = errors.New("stopped")

func stopped() error { return errStopped }

func TestTakeBooksTheSmallestWindow(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		n                    int
		stream, conn         int64
		frame                int
		want                 int
		wantStream, wantConn int64
	}{
		{"asked", 100, 1000, 2000, 500, 100, 900, 1900},
		{"stream", 1000, 300, 2000, 500, 300, 0, 1700},
		{"connection", 1000, 2000, 200, 500, 200, 1800, 0},
		{"frame", 1000, 2000, 2000, 500, 500, 1500, 1500},
		{"window gone negative after SETTINGS on the other", 1000, 50, 2000, 500, 50, 0, 1950},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindows(tc.stream, tc.conn, tc.frame)
			k, err := w.send().Take(tc.n, stopped)
			if err != nil || k != tc.want {
				t.Fatalf("Take(%d) = %d, %v; want %d, nil", tc.n, k, err, tc.want)
			}
			if w.stream != tc.wantStream || w.conn != tc.wantConn {
				t.Fatalf("windows left %d and %d, want %d and %d", w.stream, w.conn, tc.wantStream, tc.wantConn)
			}
		})
	}
}

func TestWindowIsTheSmallestWindowUpToABuffer(t *testing.T) {
	for _, tc := range []struct {
		name         string
		stream, conn int64
		want         int
	}{
		{"stream", 10, 20, 10},
		{"connection", 30, 20, 20},
		{"buffer", 1 << 30, 1 << 30, h2data.BufSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindows(tc.stream, tc.conn, 16<<10)
			k, err := w.send().Window(stopped)
			if err != nil || k != tc.want {
				t.Fatalf("Window = %d, %v; want %d, nil", k, err, tc.want)
			}
			if w.stream != tc.stream || w.conn != tc.conn {
				t.Fatalf("Window booked: windows %d and %d, want %d and %d", w.stream, w.conn, tc.stream, tc.conn)
			}
		})
	}
}

// result is what a Take waiting in its own goroutine returned.
type result struct {
	k   int
	err error
}

func TestTakeWaitsUntilBothWindowsOpen(t *testing.T) {
	for _, tc := range []struct {
		name         string
		stream, conn int64
		open         func(w *windows) // ends the wait
		want         result
	}{
		{"stream window update", 0, 100, func(w *windows) { w.change(func() { w.stream += 40 }) }, result{k: 40}},
		{"connection window update", 100, -5, func(w *windows) { w.change(func() { w.conn += 35 }) }, result{k: 30}},
		{"unbook", 100, 0, func(w *windows) { w.send().Unbook(25) }, result{k: 25}},
		{"stream reset", 0, 100, func(w *windows) { w.change(func() { w.dead = true }) }, result{err: errStopped}},
		{"connection lost", 100, 0, func(w *windows) { w.change(func() { w.connErr = errors.New("lost") }) }, result{err: errStopped}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindows(tc.stream, tc.conn, 1000)
			done := make(chan result, 1)
			go func() {
				k, err := w.send().Take(1000, stopped)
				done <- result{k, err}
			}()
			// Only a broadcast after the change may end the wait: one that
			// changes nothing must not.
			w.change(func() {})
			select {
			case r := <-done:
				t.Fatalf("Take returned %+v with a window closed", r)
			default:
			}
			tc.open(w)
			select {
			case r := <-done:
				if r.k != tc.want.k || r.err != tc.want.err {
					t.Fatalf("Take = %d, %v; want %d, %v", r.k, r.err, tc.want.k, tc.want.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Take still waits after the window opened")
			}
		})
	}
}

func TestTakeAndWindowFailOnADeadStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill func(w *windows)
	}{
		{"stream dead", func(w *windows) { w.dead = true }},
		{"connection failed", func(w *windows) { w.connErr = errors.New("lost") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindows(100, 100, 100)
			tc.kill(w)
			if k, err := w.send().Take(10, stopped); k != 0 || !errors.Is(err, errStopped) {
				t.Fatalf("Take = %d, %v; want 0 and stopped's error", k, err)
			}
			if k, err := w.send().Window(stopped); k != 0 || !errors.Is(err, errStopped) {
				t.Fatalf("Window = %d, %v; want 0 and stopped's error", k, err)
			}
			if w.stream != 100 || w.conn != 100 {
				t.Fatalf("a failed Take booked: windows %d and %d", w.stream, w.conn)
			}
		})
	}
}

func TestUnbookGivesBackTheConnectionWindowOnly(t *testing.T) {
	w := newWindows(100, 100, 100)
	if _, err := w.send().Take(60, stopped); err != nil {
		t.Fatal(err)
	}
	w.send().Unbook(60)
	if w.stream != 40 || w.conn != 100 {
		t.Fatalf("after Take(60) and Unbook(60): windows %d and %d, want 40 and 100", w.stream, w.conn)
	}
}
