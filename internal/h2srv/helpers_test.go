package h2srv_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2srv"
	"github.com/porthole-dev/porthole/server/devca"
)

// wait is how long any expected event may take. It is generous: the
// tests run under -race on two loaded cores, and none asserts speed.
const wait = 15 * time.Second

// checkGoroutines fails t if, once everything t registered after it has
// been cleaned up, more goroutines run than before. Call it first.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(wait)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// newPKI returns a TLS server config for localhost and 127.0.0.1 and the
// pool that verifies it.
func newPKI(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	ca, err := devca.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}, ca.Pool
}

// testServer serves HTTP/2 over TLS on loopback: every connection with
// h2srv, or (peek) the way server/limits.go does, h2srv for a
// CONNECT-first client and x/net's server for the rest.
type testServer struct {
	addr string
	pool *x509.CertPool
	srv  *h2srv.Server

	own, other atomic.Int64  // connections each server took
	ended      chan struct{} // one per connection whose serving returned

	mu    sync.Mutex
	conns []net.Conn
}

func startServer(t *testing.T, cfg h2srv.Config, peek bool) *testServer {
	t.Helper()
	tcfg, pool := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), pool: pool, srv: &h2srv.Server{}, ended: make(chan struct{}, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			ts.mu.Lock()
			ts.conns = append(ts.conns, nc)
			ts.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { ts.ended <- struct{}{} }()
				defer nc.Close()
				tc := tls.Server(nc, tcfg)
				hctx, hcancel := context.WithTimeout(ctx, wait)
				err := tc.HandshakeContext(hctx)
				hcancel()
				if err != nil {
					return
				}
				ts.serve(ctx, tc, cfg, peek)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(wait):
			t.Errorf("ServeConn did not return once its clients were gone")
			ts.mu.Lock()
			for _, c := range ts.conns {
				c.Close()
			}
			ts.mu.Unlock()
			<-done
		}
		cancel()
	})
	return ts
}

func (ts *testServer) serve(ctx context.Context, tc *tls.Conn, cfg h2srv.Config, peek bool) {
	if !peek {
		ts.own.Add(1)
		ts.srv.ServeConn(ctx, tc, cfg)
		return
	}
	conn, isConnect, err := h2srv.Peek(tc)
	if err != nil {
		return
	}
	if isConnect {
		ts.own.Add(1)
		ts.srv.ServeConn(ctx, conn, cfg)
		return
	}
	ts.other.Add(1)
	(&http2.Server{}).ServeConn(conn, &http2.ServeConnOpts{Context: ctx, Handler: cfg.Handler})
}

// waitEnded waits for n more connections to be done.
func (ts *testServer) waitEnded(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-ts.ended:
		case <-time.After(wait):
			t.Fatal("ServeConn did not return")
		}
	}
}

func (ts *testServer) url(path string) string { return "https://" + ts.addr + path }

// client is x/net's HTTP/2 transport, trusting ts.
func (ts *testServer) client(t *testing.T) (*http.Client, *http2.Transport) {
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.pool, ServerName: "localhost"}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: wait}, tr
}

// frame is what the raw client read, copied out of the framer's buffers.
type frame struct {
	Type      http2.FrameType
	StreamID  uint32
	Flags     http2.Flags
	Data      []byte
	Fields    []hpack.HeaderField
	Code      http2.ErrCode
	LastID    uint32 // GOAWAY
	Increment uint32
	Settings  []http2.Setting
	Ping      [8]byte
}

func (f frame) endStream() bool {
	return (f.Type == http2.FrameData || f.Type == http2.FrameHeaders) && f.Flags.Has(http2.FlagDataEndStream)
}

func (f frame) field(name string) string {
	for _, hf := range f.Fields {
		if hf.Name == name {
			return hf.Value
		}
	}
	return ""
}

func (f frame) String() string {
	switch f.Type {
	case http2.FrameRSTStream:
		return fmt.Sprintf("RST_STREAM stream=%d %v", f.StreamID, f.Code)
	case http2.FrameGoAway:
		return fmt.Sprintf("GOAWAY last=%d %v", f.LastID, f.Code)
	case http2.FrameHeaders:
		return fmt.Sprintf("HEADERS stream=%d flags=%v %v", f.StreamID, f.Flags, f.Fields)
	}
	return fmt.Sprintf("%v stream=%d flags=%v len=%d", f.Type, f.StreamID, f.Flags, len(f.Data))
}

// rawOpts shapes a raw client.
type rawOpts struct {
	settings   []http2.Setting // sent after the preface (nil: none)
	noSettings bool            // send no SETTINGS at all
	noPingAck  bool            // leave the server's PINGs unanswered
	noCredit   bool            // return no window for DATA read
	preface    string          // instead of the client preface
	tableSize  *uint32         // the HPACK decoder's dynamic table (nil: 4096)
}

// rawClient speaks HTTP/2 frame by frame, for what x/net's transport
// never sends. Its reader answers SETTINGS and PING, returns window for
// DATA read, and keeps the send windows the server grants.
type rawClient struct {
	t    *testing.T
	nc   net.Conn
	opts rawOpts

	wmu  sync.Mutex
	fr   *http2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer

	frames  chan frame
	backlog []frame       // read, kept for a later next (response skips other streams')
	done    chan struct{} // the reader ended
	quit    chan struct{} // the test is over
	rerr    error         // why the reader ended (after done)

	mu        sync.Mutex
	cond      *sync.Cond
	connWin   int64
	initWin   int64
	streamWin map[uint32]int64
	maxFrame  int
	settings  chan []http2.Setting // the server's first SETTINGS
}

func dialRaw(t *testing.T, ts *testServer, opts rawOpts) *rawClient {
	t.Helper()
	d := &net.Dialer{Timeout: wait}
	nc, err := tls.DialWithDialer(d, "tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	return newRaw(t, nc, opts)
}

func newRaw(t *testing.T, nc net.Conn, opts rawOpts) *rawClient {
	t.Helper()
	c := &rawClient{
		t: t, nc: nc, opts: opts, frames: make(chan frame, 4096), done: make(chan struct{}), quit: make(chan struct{}),
		connWin: 65535, initWin: 65535, streamWin: map[uint32]int64{}, maxFrame: 16 << 10,
		settings: make(chan []http2.Setting, 1),
	}
	c.cond = sync.NewCond(&c.mu)
	c.fr = http2.NewFramer(nc, nil)
	c.fr.AllowIllegalWrites = true // the hostile tests write what a client must not
	c.enc = hpack.NewEncoder(&c.hbuf)
	t.Cleanup(c.close)
	preface := http2.ClientPreface
	if opts.preface != "" {
		preface = opts.preface
	}
	if _, err := io.WriteString(nc, preface); err != nil {
		t.Fatal(err)
	}
	if !opts.noSettings {
		c.write(func(fr *http2.Framer) error { return fr.WriteSettings(opts.settings...) })
	}
	go c.read()
	return c
}

func (c *rawClient) close() {
	select {
	case <-c.quit:
	default:
		close(c.quit)
	}
	c.nc.Close()
	<-c.done
}

// write sends frames; a failed write is left to what the test expects
// next (the server may well have closed the connection).
func (c *rawClient) write(f func(fr *http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	return f(c.fr)
}

func (c *rawClient) read() {
	defer close(c.done)
	fr := http2.NewFramer(nil, c.nc)
	fr.SetMaxReadFrameSize(1<<24 - 1)
	table := uint32(4096)
	if c.opts.tableSize != nil {
		table = *c.opts.tableSize
	}
	fr.ReadMetaHeaders = hpack.NewDecoder(table, nil)
	fr.MaxHeaderListSize = 16 << 20
	first := true
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			c.rerr = err
			c.mu.Lock()
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		ev := frame{Type: f.Header().Type, StreamID: f.Header().StreamID, Flags: f.Header().Flags}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				var ss []http2.Setting
				_ = f.ForeachSetting(func(s http2.Setting) error { ss = append(ss, s); return nil })
				ev.Settings = ss
				c.applySettings(ss)
				if first {
					c.settings <- ss
					first = false
				}
				c.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
			}
		case *http2.WindowUpdateFrame:
			ev.Increment = f.Increment
			c.mu.Lock()
			if f.StreamID == 0 {
				c.connWin += int64(f.Increment)
			} else if _, ok := c.streamWin[f.StreamID]; ok {
				c.streamWin[f.StreamID] += int64(f.Increment)
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		case *http2.PingFrame:
			ev.Ping = f.Data
			if !f.IsAck() && !c.opts.noPingAck {
				c.write(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
			}
		case *http2.DataFrame:
			ev.Data = bytes.Clone(f.Data())
			if n := f.Length; n > 0 && !c.opts.noCredit {
				c.write(func(fr *http2.Framer) error {
					if err := fr.WriteWindowUpdate(0, n); err != nil {
						return err
					}
					return fr.WriteWindowUpdate(f.StreamID, n)
				})
			}
		case *http2.MetaHeadersFrame:
			ev.Fields = f.Fields
		case *http2.RSTStreamFrame:
			ev.Code = f.ErrCode
		case *http2.GoAwayFrame:
			ev.Code, ev.LastID = f.ErrCode, f.LastStreamID
		}
		select {
		case c.frames <- ev:
		case <-c.quit:
			return
		}
	}
}

func (c *rawClient) applySettings(ss []http2.Setting) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range ss {
		switch s.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.initWin
			c.initWin = int64(s.Val)
			for id := range c.streamWin {
				c.streamWin[id] += delta
			}
		case http2.SettingMaxFrameSize:
			c.maxFrame = int(s.Val)
		}
	}
	c.cond.Broadcast()
}

// serverSettings waits for the server's first SETTINGS.
func (c *rawClient) serverSettings() []http2.Setting {
	c.t.Helper()
	select {
	case ss := <-c.settings:
		return ss
	case <-time.After(wait):
		c.t.Fatal("no SETTINGS from the server")
		return nil
	}
}

// headers opens stream id (or sends its trailers) with fields, split
// into HEADERS and CONTINUATION frames of at most 16 KiB.
func (c *rawClient) headers(id uint32, end bool, fields ...hpack.HeaderField) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	block, err := c.openLocked(id, fields)
	if err != nil {
		return err
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	const max = 16 << 10
	n := min(len(block), max)
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:n], EndStream: end, EndHeaders: n == len(block)}); err != nil {
		return err
	}
	for block = block[n:]; len(block) > 0; block = block[n:] {
		n = min(len(block), max)
		if err := c.fr.WriteContinuation(id, n == len(block), block[:n]); err != nil {
			return err
		}
	}
	return nil
}

// headersWithData sends HEADERS and one DATA frame on stream id in one
// write, so both reach the server in one TLS record, as a tunnel client's
// CONNECT with early data does.
func (c *rawClient) headersWithData(id uint32, fields []hpack.HeaderField, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	block, err := c.openLocked(id, fields)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true}); err != nil {
		return err
	}
	if err := fr.WriteData(id, false, p); err != nil {
		return err
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	_, err = c.nc.Write(out.Bytes())
	return err
}

// openLocked gives stream id its send window and encodes fields as its
// header block (c.wmu held: the HPACK table follows the order of writes).
func (c *rawClient) openLocked(id uint32, fields []hpack.HeaderField) ([]byte, error) {
	c.mu.Lock()
	if _, ok := c.streamWin[id]; !ok {
		c.streamWin[id] = c.initWin
	}
	c.mu.Unlock()
	c.hbuf.Reset()
	for _, f := range fields {
		if err := c.enc.WriteField(f); err != nil {
			return nil, err
		}
	}
	return c.hbuf.Bytes(), nil
}

// request builds a request's header fields.
func request(method, path string, extra ...string) []hpack.HeaderField {
	fs := []hpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: "https"}, {Name: ":authority", Value: "localhost"}, {Name: ":path", Value: path}}
	for i := 0; i+1 < len(extra); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
	}
	return fs
}

// connect is a CONNECT's header fields.
func connect(authority string) []hpack.HeaderField {
	return []hpack.HeaderField{{Name: ":method", Value: "CONNECT"}, {Name: ":authority", Value: authority}}
}

// data sends p on stream id as the server's windows allow, failing if
// they stay shut.
func (c *rawClient) data(id uint32, p []byte, end bool) error {
	expired := false
	tm := time.AfterFunc(wait, func() {
		c.mu.Lock()
		expired = true
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer tm.Stop()
	for {
		c.mu.Lock()
		for len(p) > 0 && (c.connWin <= 0 || c.streamWin[id] <= 0) && !c.readerDone() && !expired {
			c.cond.Wait()
		}
		if c.readerDone() {
			c.mu.Unlock()
			return fmt.Errorf("connection closed: %w", c.rerr)
		}
		if expired {
			c.mu.Unlock()
			return fmt.Errorf("stream %d: no window from the server (connection %d, stream %d)", id, c.connWin, c.streamWin[id])
		}
		n := int(min(int64(len(p)), c.connWin, c.streamWin[id], int64(c.maxFrame)))
		c.connWin -= int64(n)
		c.streamWin[id] -= int64(n)
		c.mu.Unlock()
		last := n == len(p)
		if err := c.write(func(fr *http2.Framer) error { return fr.WriteData(id, end && last, p[:n]) }); err != nil {
			return err
		}
		p = p[n:]
		if last {
			return nil
		}
	}
}

// readerDone reports whether the reader ended. c.mu is held or not.
func (c *rawClient) readerDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// next returns the next frame the server sent; ok is false once the
// connection is closed.
func (c *rawClient) next() (f frame, ok bool) {
	c.t.Helper()
	if len(c.backlog) > 0 {
		f, c.backlog = c.backlog[0], c.backlog[1:]
		return f, true
	}
	select {
	case f := <-c.frames:
		return f, true
	case <-c.done:
		select {
		case f := <-c.frames:
			return f, true
		default:
			return frame{}, false
		}
	case <-time.After(wait):
		c.t.Fatal("no frame from the server")
		return frame{}, false
	}
}

// expect skips frames until one matches.
func (c *rawClient) expect(what string, match func(frame) bool) frame {
	c.t.Helper()
	var seen []string
	for {
		f, ok := c.next()
		if !ok {
			c.t.Fatalf("connection closed (%v) before %s; saw %v", c.rerr, what, seen)
		}
		if match(f) {
			return f
		}
		seen = append(seen, f.String())
	}
}

// expectClosed skips frames until the server closes the connection and
// returns the GOAWAY it sent (Type 0 when none).
func (c *rawClient) expectClosed() frame {
	c.t.Helper()
	var away frame
	for {
		f, ok := c.next()
		if !ok {
			return away
		}
		if f.Type == http2.FrameGoAway {
			away = f
		}
	}
}

func isType(typ http2.FrameType, id uint32) func(frame) bool {
	return func(f frame) bool { return f.Type == typ && f.StreamID == id }
}

// response reads stream id's response: its header fields, body and
// trailers, or the RST_STREAM code that ended it.
type response struct {
	status   string
	header   frame
	body     []byte
	trailers []hpack.HeaderField
	reset    bool
	code     http2.ErrCode
}

func (c *rawClient) response(id uint32) response {
	c.t.Helper()
	var r response
	var others []frame
	defer func() { c.backlog = append(others, c.backlog...) }()
	for {
		f, ok := c.next()
		if !ok {
			c.t.Fatalf("connection closed (%v) before the end of stream %d", c.rerr, id)
		}
		if f.StreamID != id && f.Type != http2.FrameGoAway {
			others = append(others, f)
			continue
		}
		switch f.Type {
		case http2.FrameGoAway:
			c.t.Fatalf("stream %d: %v", id, f)
		case http2.FrameRSTStream:
			r.reset, r.code = true, f.Code
			return r
		case http2.FrameHeaders:
			switch {
			case r.status == "" && strings.HasPrefix(f.field(":status"), "1"):
				// informational
			case r.status == "":
				r.status, r.header = f.field(":status"), f
			default:
				r.trailers = f.Fields
			}
		case http2.FrameData:
			r.body = append(r.body, f.Data...)
		}
		if f.endStream() {
			return r
		}
	}
}

// echoHandler answers a GET with "hello" and echoes any other body.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, "hello")
			return
		}
		w.WriteHeader(http.StatusOK)
		io.Copy(w, r.Body)
	})
}

// tunnel is a stream's data path for CONNECT (server/tunnelpipe.go).
type tunnel interface {
	Deliver(up net.Conn, progress func(int))
	UploadTo(up net.Conn, progress func(int)) (int64, error)
	DownloadFrom(up net.Conn, progress func(int)) (int64, error)
}

// tunnelHandler answers a CONNECT the way server/tunnelpipe.go's
// tunnelOwnH2 does, to the upstream at addr; a failure on either side
// resets the stream.
func tunnelHandler(addr string) http.Handler { return tunnelVia(addr, false) }

// wrapped hides a *net.TCPConn (as server/limits.go's limitConn does):
// the tunnel takes its plain Read and Write path.
type wrapped struct{ net.Conn }

// tunnelVia is tunnelHandler; wrap hides the upstream's *net.TCPConn.
func tunnelVia(addr string, wrap bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			echoHandler().ServeHTTP(w, r)
			return
		}
		t := w.(tunnel)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tc := conn.(*net.TCPConn)
		up := conn
		if wrap {
			up = wrapped{conn}
		}
		t.Deliver(up, nil)
		done := make(chan error, 1)
		go func() {
			_, err := t.UploadTo(up, nil)
			if err != nil {
				resetTCP(tc)
			} else {
				tc.CloseWrite()
			}
			done <- err
		}()
		w.WriteHeader(http.StatusOK)
		_, err = t.DownloadFrom(up, nil)
		r.Body.Close()
		if err != nil {
			resetTCP(tc)
		} else {
			tc.Close()
		}
		<-done
		if err != nil {
			panic(http.ErrAbortHandler) // RST_STREAM, as server/connect.go does
		}
	})
}

func resetTCP(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// upstream is a loopback TCP listener whose connections echo (echo) or
// go to the test (conns).
type upstream struct {
	addr  string
	conns chan *net.TCPConn
}

func startUpstream(t *testing.T, echo bool) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: ln.Addr().String(), conns: make(chan *net.TCPConn, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			if !echo {
				u.conns <- c.(*net.TCPConn)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if _, err := io.Copy(c, c); err == nil {
					c.(*net.TCPConn).CloseWrite()
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return u
}

// accept returns the upstream's next connection.
func (u *upstream) accept(t *testing.T) *net.TCPConn {
	t.Helper()
	select {
	case c := <-u.conns:
		return c
	case <-time.After(wait):
		t.Fatal("no upstream connection")
		return nil
	}
}
