// Package recbatch sends the TLS records of one Write in one system call.
//
// crypto/tls writes every record (at most 16 KiB of data) to the
// connection under it on its own: a 256 KiB Write is sixteen sendmsg
// calls, each a trip through the kernel's TCP stack. Conn sits under the
// TLS connection and holds the records of a Write while a batch is open;
// TLS wraps a *tls.Conn so each of its Writes is one batch. Both the
// client's tunnels and the server's connections use it.
package recbatch

import (
	"crypto/tls"
	"net"
	"sync"

	"github.com/porthole-dev/porthole/internal/bufpool"
)

// MaxBatch flushes a batch early: it bounds what one Write holds.
const MaxBatch = 256 << 10

var pool = bufpool.New(func() *[]byte { b := make([]byte, 0, 68<<10); return &b })

// Conn is a connection whose writes are held while a batch is open and
// written at once when it closes. Outside a batch a Write goes straight
// through (after anything still pending, so order is kept).
type Conn struct {
	net.Conn

	mu       sync.Mutex
	batching int     // batches open; the last to close flushes
	buf      *[]byte // pending records, from pool while a batch holds any
	err      error   // the first failed write of pending records
}

// New wraps c.
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching == 0 {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.buf == nil {
		c.buf = pool.Get()
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= MaxBatch {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Batch opens a batch: writes are held until the matching Flush.
func (c *Conn) Batch() {
	c.mu.Lock()
	c.batching++
	c.mu.Unlock()
}

// Flush closes one batch and, when it was the last open, writes what is
// pending. A write that failed earlier in the batch is reported here.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching--
	if c.batching > 0 {
		return c.err
	}
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if c.buf == nil {
		return c.err
	}
	b := c.buf
	c.buf = nil
	if c.err == nil && len(*b) > 0 {
		_, c.err = c.Conn.Write(*b)
	}
	*b = (*b)[:0]
	if cap(*b) <= 2*MaxBatch {
		pool.Put(b)
	}
	return c.err
}

// Batcher is what TLS needs of the connection under the TLS layer.
type Batcher interface {
	Batch()
	Flush() error
}

// TLS is a TLS connection whose every Write goes out in one batch of the
// Batcher under it. It keeps *tls.Conn's methods (ConnectionState,
// NetConn, CloseWrite...), so code that asks for them still finds them.
type TLS struct {
	*tls.Conn
	raw Batcher
}

// WrapTLS returns tc batching its writes when the connection under it is
// a Batcher, and tc itself otherwise.
func WrapTLS(tc *tls.Conn) net.Conn {
	if b, ok := tc.NetConn().(Batcher); ok {
		return &TLS{Conn: tc, raw: b}
	}
	return tc
}

// NewTLS is WrapTLS when the caller knows the Batcher.
func NewTLS(tc *tls.Conn, raw Batcher) *TLS { return &TLS{Conn: tc, raw: raw} }

func (c *TLS) Write(p []byte) (int, error) {
	c.raw.Batch()
	n, err := c.Conn.Write(p)
	if ferr := c.raw.Flush(); err == nil && ferr != nil {
		return 0, ferr
	}
	return n, err
}
