package tunnel

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/porthole-dev/porthole/internal/tcpopts"
)

// Listener is a started local listener; front ends start and stop it.
type Listener struct {
	t      *Tunnel
	ln     net.Listener
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	err     error
	stopped bool
}

// Listen opens addr ("127.0.0.1:0" picks a port) and serves cfg on it in
// the background. EventListening is reported with the chosen address.
func Listen(ctx context.Context, addr string, cfg Config) (*Listener, error) {
	t, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{KeepAlive: tcpopts.KeepAlive(addr)}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Listener{t: t, ln: ln, cancel: cancel, done: make(chan struct{})}
	go func() {
		err := t.Serve(ctx, ln)
		t.Close()
		l.mu.Lock()
		if !l.stopped {
			l.err = err
		}
		l.mu.Unlock()
		close(l.done)
	}()
	return l, nil
}

// Addr is the address listened on (the chosen port for ":0").
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Stats are the live counters of the listener's tunnel.
func (l *Listener) Stats() Stats { return l.t.Stats() }

// Stop closes the listener and every active connection, and waits until
// they are gone.
func (l *Listener) Stop() error {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.cancel()
	l.ln.Close()
	l.t.closeActive()
	<-l.done
	return nil
}

// Done is closed once the listener has stopped.
func (l *Listener) Done() <-chan struct{} { return l.done }

// Err says why the listener stopped: nil after Stop, the context's error
// when the context passed to Listen ended, else the accept error.
func (l *Listener) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || errors.Is(l.err, net.ErrClosed) {
		return nil
	}
	return l.err
}
