package tcp

import (
	"io"
	"net"
	"sync"
	"time"
)

// stdioConn is stdin and stdout seen as one net.Conn, so `--listen -`
// works as ssh's ProxyCommand. CloseWrite closes stdout (when it can be
// closed) so the peer sees end of stream.
type stdioConn struct {
	in  io.Reader
	out io.Writer

	once sync.Once
}

func newStdioConn(in io.Reader, out io.Writer) *stdioConn { return &stdioConn{in: in, out: out} }

func (c *stdioConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *stdioConn) Write(p []byte) (int, error) { return c.out.Write(p) }

// CloseWrite signals end of stream to whoever reads our stdout.
func (c *stdioConn) CloseWrite() error {
	var err error
	c.once.Do(func() {
		if cl, ok := c.out.(io.Closer); ok {
			err = cl.Close()
		}
	})
	return err
}

// Close ends both directions: stdout is closed, and stdin too when it can
// be, so a pending Read returns.
func (c *stdioConn) Close() error {
	err := c.CloseWrite()
	if cl, ok := c.in.(io.Closer); ok {
		_ = cl.Close()
	}
	return err
}

func (c *stdioConn) LocalAddr() net.Addr              { return stdioAddr{} }
func (c *stdioConn) RemoteAddr() net.Addr             { return stdioAddr{} }
func (c *stdioConn) SetDeadline(time.Time) error      { return nil }
func (c *stdioConn) SetReadDeadline(time.Time) error  { return nil }
func (c *stdioConn) SetWriteDeadline(time.Time) error { return nil }

type stdioAddr struct{}

func (stdioAddr) Network() string { return "stdio" }
func (stdioAddr) String() string  { return "stdio" }
