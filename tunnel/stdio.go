package tunnel

import (
	"io"
	"net"
	"sync"
	"time"
)

// StdioConn makes stdin and stdout one net.Conn for ServeConn (the CLI's
// `--listen -`, ssh's ProxyCommand). CloseWrite closes out when it is an
// io.Closer, so the reader of stdout sees end of stream; Close also closes
// in when it can, so a pending Read returns.
func StdioConn(in io.Reader, out io.Writer) net.Conn { return &stdioConn{in: in, out: out} }

type stdioConn struct {
	in      io.Reader
	out     io.Writer
	outOnce sync.Once
	inOnce  sync.Once
}

func (c *stdioConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *stdioConn) Write(p []byte) (int, error) { return c.out.Write(p) }

func (c *stdioConn) CloseWrite() error {
	var err error
	c.outOnce.Do(func() {
		if cl, ok := c.out.(io.Closer); ok {
			err = cl.Close()
		}
	})
	return err
}

func (c *stdioConn) Close() error {
	err := c.CloseWrite()
	c.inOnce.Do(func() {
		if cl, ok := c.in.(io.Closer); ok {
			_ = cl.Close()
		}
	})
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
