package h2data

import "sync"

// SendWindows are the two send windows a stream's DATA waits for, its own
// and its connection's, with what ends the wait. All of it is guarded by
// the connection's mutex, the one Cond waits with: whoever opens a window,
// or ends the stream or the connection, broadcasts on Cond. The pointers
// are the caller's fields, so the reader that applies WINDOW_UPDATE and
// SETTINGS keeps changing them where they are.
//
// Window and Take take stopped, why nothing more can be sent once Dead or
// ConnErr says so (called with the mutex held), as a parameter rather
// than a field: Cond's wait makes everything the struct points to escape,
// and a func field would cost every frame an allocation.
type SendWindows struct {
	Cond    *sync.Cond
	Stream  *int64
	Conn    *int64
	Frame   *int   // the peer's largest DATA payload
	Dead    *bool  // the stream was reset or lost
	ConnErr *error // why the connection ended; nil while it runs
}

// await waits, with the connection's mutex held, until both windows are
// open or the stream cannot send any more.
func (w SendWindows) await(stopped func() error) error {
	for !*w.Dead && *w.ConnErr == nil && (*w.Stream <= 0 || *w.Conn <= 0) {
		w.Cond.Wait()
	}
	if *w.Dead || *w.ConnErr != nil {
		return stopped()
	}
	return nil
}

// Window waits until both windows are open and returns how much may be
// read now (at most BufSize); Take then splits it into frames.
func (w SendWindows) Window(stopped func() error) (int, error) {
	w.Cond.L.Lock()
	defer w.Cond.L.Unlock()
	if err := w.await(stopped); err != nil {
		return 0, err
	}
	return int(min(*w.Stream, *w.Conn, BufSize)), nil
}

// Take waits until both windows are open and books up to n bytes of them,
// no more than one frame holds.
func (w SendWindows) Take(n int, stopped func() error) (int, error) {
	w.Cond.L.Lock()
	defer w.Cond.L.Unlock()
	if err := w.await(stopped); err != nil {
		return 0, err
	}
	k := int(min(int64(n), *w.Stream, *w.Conn, int64(*w.Frame)))
	*w.Stream -= int64(k)
	*w.Conn -= int64(k)
	return k, nil
}

// Unbook gives back n bytes of connection window that Take booked for a
// frame that never went out (its stream was reset meanwhile): the peer
// counts no DATA against it, so other streams may use it. The stream's
// window is not given back; the stream sends no more.
func (w SendWindows) Unbook(n int) {
	w.Cond.L.Lock()
	*w.Conn += int64(n)
	w.Cond.Broadcast()
	w.Cond.L.Unlock()
}
