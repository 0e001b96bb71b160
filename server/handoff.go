package server

import (
	"net"
	"sync"
)

// acceptFeed accepts on one listener for whichever http.Server serves it
// now: a reload that changes the server-wide timeouts starts a new
// http.Server (Go's cannot change them while serving) and hands the
// listener over, while connections already open finish on the old one
// with the timeouts they started with.
type acceptFeed struct {
	ln    net.Listener
	conns chan net.Conn
	stop  chan struct{} // closed by Close
	done  chan struct{} // closed when ln's Accept fails for good
	err   error         // that failure, readable once done is closed
	once  sync.Once
}

func newAcceptFeed(ln net.Listener) *acceptFeed {
	f := &acceptFeed{ln: ln, conns: make(chan net.Conn), stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

func (f *acceptFeed) run() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			f.err = err
			close(f.done)
			return
		}
		select {
		case f.conns <- c:
		case <-f.stop: // closed with no server left to take it
			c.Close()
		}
	}
}

// Close closes the listener itself (every server's view of it ends).
func (f *acceptFeed) Close() error {
	var err error
	f.once.Do(func() {
		close(f.stop)
		err = f.ln.Close()
	})
	return err
}

// listener is one http.Server's view of the feed: closing it (the
// server's Shutdown, or a hand-over) stops that server's accepting only.
func (f *acceptFeed) listener() *feedListener {
	return &feedListener{f: f, closed: make(chan struct{})}
}

type feedListener struct {
	f      *acceptFeed
	closed chan struct{}
	once   sync.Once
}

func (l *feedListener) Accept() (net.Conn, error) {
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-l.f.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-l.f.done:
		return nil, l.f.err
	}
}

func (l *feedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *feedListener) Addr() net.Addr { return l.f.ln.Addr() }
