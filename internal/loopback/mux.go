package loopback

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
)

// The mux is the tunnel's shape with nothing else: local connections
// carried as streams over one persistent plain TCP connection, the far
// end dialing the target for each. No TLS, no HTTP/2, no flow control,
// no policy; a frame is a 7-byte header (kind, stream id, length) and its
// bytes. It is the floor under the tunnel's first byte: what the same
// process hops cost on this machine when the tunnel's own work is taken
// away. Without flow control a stream that is not read stalls the others,
// so it serves the first-byte measure, not bulk transfers.

const (
	muxOpen  = 1 // a new stream: the far end dials
	muxData  = 2
	muxEnd   = 3 // the sender's side of the stream ended (half-close)
	muxHdr   = 7
	muxChunk = 32 << 10
)

type muxConn struct {
	c   net.Conn
	wmu sync.Mutex

	mu      sync.Mutex
	streams map[uint32]*muxStream
}

// muxStream is one carried connection; it is closed once both of its
// directions have ended.
type muxStream struct {
	c             net.Conn
	sent, shutRcv bool // our side's end sent; the peer's end passed on
}

func newMuxConn(c net.Conn) *muxConn {
	return &muxConn{c: c, streams: map[uint32]*muxStream{}}
}

func (m *muxConn) send(kind byte, id uint32, p []byte) error {
	buf := make([]byte, muxHdr+len(p))
	buf[0] = kind
	binary.BigEndian.PutUint32(buf[1:], id)
	binary.BigEndian.PutUint16(buf[5:], uint16(len(p)))
	copy(buf[muxHdr:], p)
	m.wmu.Lock()
	defer m.wmu.Unlock()
	_, err := m.c.Write(buf)
	return err
}

// carry sends what c reads as stream id, then its end.
func (m *muxConn) carry(id uint32, c net.Conn) {
	buf := make([]byte, muxChunk)
	for {
		n, err := c.Read(buf)
		if n > 0 && m.send(muxData, id, buf[:n]) != nil {
			return
		}
		if err != nil {
			_ = m.send(muxEnd, id, nil)
			m.ended(id, func(st *muxStream) { st.sent = true })
			return
		}
	}
}

// ended records one direction's end and closes the stream when both are.
func (m *muxConn) ended(id uint32, mark func(*muxStream)) {
	m.mu.Lock()
	st := m.streams[id]
	if st == nil {
		m.mu.Unlock()
		return
	}
	mark(st)
	done := st.sent && st.shutRcv
	if done {
		delete(m.streams, id)
	}
	m.mu.Unlock()
	if done {
		st.c.Close()
	}
}

func (m *muxConn) conn(id uint32) net.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.streams[id]; st != nil {
		return st.c
	}
	return nil
}

func (m *muxConn) add(id uint32, c net.Conn) {
	m.mu.Lock()
	m.streams[id] = &muxStream{c: c}
	m.mu.Unlock()
}

// read takes frames until the mux connection ends; open is called for
// muxOpen (the far end), data and ends go to the stream's connection.
func (m *muxConn) read(open func(id uint32)) error {
	var h [muxHdr]byte
	buf := make([]byte, 1<<16)
	for {
		if _, err := io.ReadFull(m.c, h[:]); err != nil {
			return err
		}
		kind, id, n := h[0], binary.BigEndian.Uint32(h[1:]), int(binary.BigEndian.Uint16(h[5:]))
		if _, err := io.ReadFull(m.c, buf[:n]); err != nil {
			return err
		}
		if kind == muxOpen {
			if open != nil {
				open(id)
			}
			continue
		}
		c := m.conn(id)
		if c == nil {
			continue
		}
		switch kind {
		case muxData:
			_, _ = c.Write(buf[:n])
		case muxEnd:
			closeWrite(c)
			m.ended(id, func(st *muxStream) { st.shutRcv = true })
		}
	}
}

// MuxBack is the mux's far end: it takes one mux connection at a time on
// ln (a TLS listener for the floor with TLS) and dials target for each
// stream it opens.
func MuxBack(ln net.Listener, target string) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		m := newMuxConn(c)
		_ = m.read(func(id uint32) {
			up, err := net.Dial("tcp", target)
			if err != nil {
				return // the stream's data is dropped; its client times out
			}
			m.add(id, up)
			go m.carry(id, up)
		})
		c.Close()
	}
}

// MuxFront is the mux's near end: it accepts local connections on ln and
// carries each as a stream over one connection from dial (plain TCP, or
// TLS for the floor with TLS).
func MuxFront(ln net.Listener, dial func() (net.Conn, error)) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	m := newMuxConn(c)
	errc := make(chan error, 1)
	go func() { errc <- m.read(nil) }()
	var id uint32
	for {
		local, err := ln.Accept()
		if err != nil {
			return err
		}
		select {
		case err := <-errc:
			local.Close()
			return errors.Join(errors.New("mux connection ended"), err)
		default:
		}
		id++
		m.add(id, local)
		go func(id uint32) {
			if m.send(muxOpen, id, nil) == nil {
				m.carry(id, local)
			}
		}(id)
	}
}
