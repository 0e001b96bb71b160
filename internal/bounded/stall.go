package bounded

import (
	"context"
	"net"
	"time"
)

// DialFunc is net.Dialer.DialContext's shape.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// StallDialer wraps dial so every connection fails a read or write that
// makes no progress for stall: a peer that trickles or goes silent ends
// in a timeout error instead of a wait without end.
func StallDialer(dial DialFunc, stall time.Duration) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil || stall <= 0 {
			return c, err
		}
		return &stallConn{Conn: c, stall: stall}, nil
	}
}

type stallConn struct {
	net.Conn
	stall time.Duration
}

func (c *stallConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.stall))
	return c.Conn.Read(p)
}

func (c *stallConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.stall))
	return c.Conn.Write(p)
}

// CloseWrite keeps half-close working through the wrapper.
func (c *stallConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}
