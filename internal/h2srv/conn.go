package h2srv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2data"
	"github.com/porthole-dev/porthole/internal/stackpre"
)

// conn is one client connection. One goroutine at a time reads frames
// (serve's, then one frames starts each time it hands a handler over);
// any goroutine writes them under wmu.
type conn struct {
	cfg    Config
	nc     net.Conn
	fr     *http2.Framer
	ctx    context.Context // requests' contexts derive from it; ends with the connection
	cancel context.CancelFunc
	tls    *tls.ConnectionState
	remote string

	wmu     sync.Mutex // serializes frames on the wire; taken before mu, never after
	started bool       // under wmu: SETTINGS went out, so may GOAWAY
	wfr     *http2.Framer
	wbuf    bytes.Buffer // control and header frames, written by wfr then sent whole
	henc    *hpack.Encoder
	hbuf    bytes.Buffer

	mu         sync.Mutex
	cond       *sync.Cond // send windows and failure
	streams    map[uint32]*stream
	maxID      uint32            // the highest stream id the client opened
	peerFrame  int               // the largest DATA payload the client takes
	peerWindow int32             // the client's SETTINGS_INITIAL_WINDOW_SIZE
	sendWin    int64             // connection send window
	recv       h2data.RecvWindow // the connection's receive window
	goneAway   bool              // GOAWAY sent: no new streams, close when none are left
	resetIDs   []uint32          // streams reset while the client still sent, newest last (a few)
	err        error             // why the connection ended; nil while it runs

	handoff  func()        // the reader's: a new stream's handler, for frames to hand over
	readDone chan struct{} // closed when the reading ends

	lastRead atomic.Int64 // unix nanos of the last frame read
	pingSent atomic.Int64 // unix nanos of an unanswered liveness PING, 0 none
	idleTm   *time.Timer  // under mu: IdleTimeout and PingAfter checks
	idleAt   time.Time    // under mu: when the last stream ended
}

// connStater is a connection that knows its TLS state (*tls.Conn and the
// wrappers around it).
type connStater interface {
	ConnectionState() tls.ConnectionState
}

func newConn(base context.Context, nc net.Conn, cfg Config) *conn {
	ctx, cancel := context.WithCancel(context.WithValue(base, http.LocalAddrContextKey, nc.LocalAddr()))
	c := &conn{
		cfg: cfg, nc: nc, ctx: ctx, cancel: cancel, remote: nc.RemoteAddr().String(),
		streams: map[uint32]*stream{}, peerFrame: 16 << 10, peerWindow: 65535,
		sendWin: 65535, recv: h2data.RecvWindow{Left: int64(cfg.ConnWindow)}, idleAt: time.Now(),
		readDone: make(chan struct{}),
	}
	if cs, ok := nc.(connStater); ok {
		st := cs.ConnectionState()
		c.tls = &st
	}
	c.cond = sync.NewCond(&c.mu)
	c.fr = http2.NewFramer(nil, nc)
	c.fr.SetMaxReadFrameSize(cfg.MaxReadFrameSize)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = uint32(cfg.MaxHeaderBytes)
	c.wfr = http2.NewFramer(&c.wbuf, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	return c
}

// prefaceTimeout bounds the wait for the client preface (x/net's too).
const prefaceTimeout = 10 * time.Second

// serve runs the connection: preface, settings, then frames until the
// connection ends. It returns once the connection is over and the
// handler it ran, if any, has returned.
func (c *conn) serve() {
	if !c.start() {
		c.close()
		return
	}
	c.readOn()
	<-c.readDone
}

// readOn reads frames until the connection ends or it takes a new
// stream's handler, which it then runs.
func (c *conn) readOn() {
	stackpre.To8K() // this goroutine goes on to run a handler
	if run := c.frames(); run != nil {
		run()
	}
}

// start reads the preface and sends the server's SETTINGS (false: the
// connection is not one to serve).
func (c *conn) start() bool {
	// A client that never sends its preface is not served forever: no
	// other timer runs before it.
	wait := prefaceTimeout
	if t := c.cfg.IdleTimeout; t > 0 && t < wait {
		wait = t
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(wait))
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c.nc, preface); err != nil || string(preface) != http2.ClientPreface {
		return false
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	settings := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		{ID: http2.SettingInitialWindowSize, Val: uint32(c.cfg.StreamWindow)},
		{ID: http2.SettingMaxFrameSize, Val: c.cfg.MaxReadFrameSize},
		{ID: http2.SettingMaxHeaderListSize, Val: uint32(c.cfg.MaxHeaderBytes)},
	}
	if c.cfg.ExtendedConnect {
		settings = append(settings, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	}
	if err := c.control(func(fr *http2.Framer) error {
		c.started = true
		if err := fr.WriteSettings(settings...); err != nil {
			return err
		}
		// The increment must be positive: a window of exactly the
		// initial 65535 needs no update.
		if inc := c.cfg.ConnWindow - 65535; inc > 0 {
			return fr.WriteWindowUpdate(0, uint32(inc))
		}
		return nil
	}); err != nil {
		return false
	}
	c.lastRead.Store(time.Now().UnixNano())
	if t := c.checkEvery(); t > 0 {
		// Under mu: the first check may run before AfterFunc returns.
		c.mu.Lock()
		c.idleTm = time.AfterFunc(t, c.check)
		c.mu.Unlock()
	}
	return true
}

// frames reads and handles frames until the connection ends; it then
// closes the connection, closes readDone and returns nil. A new stream's
// handler gets no goroutine of its own: frames starts one that reads on
// and returns the handler for its caller to run, so a request is served
// at once, not after another thread has woken up for it (the frames
// behind it wait instead, and they are rarely urgent: the handler has
// yet to authorize and dial).
func (c *conn) frames() (run func()) {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				// A malformed HEADERS still opened its stream: DATA
				// behind it is for a closed stream, not an idle one.
				c.mu.Lock()
				if se.StreamID%2 == 1 && se.StreamID > c.maxID {
					c.maxID = se.StreamID
				}
				c.mu.Unlock()
				c.streamError(se.StreamID, se.Code)
				continue
			}
			var ce http2.ConnectionError
			switch {
			case errors.As(err, &ce):
				c.connError(http2.ErrCode(ce))
				c.drain()
			case errors.Is(err, http2.ErrFrameTooLarge):
				c.connError(http2.ErrCodeFrameSize)
				c.drain()
			}
			c.fail(err)
			c.endRead()
			return nil
		}
		c.lastRead.Store(time.Now().UnixNano())
		if err := c.handle(f); err != nil {
			c.fail(err)
			c.drain()
			c.endRead()
			return nil
		}
		if c.handoff != nil {
			run, c.handoff = c.handoff, nil
			go c.readOn()
			return run
		}
	}
}

// endRead ends the connection once nothing reads it any more.
func (c *conn) endRead() {
	c.close()
	close(c.readDone)
}

// goAwayLinger is how long a connection that ends in a GOAWAY still reads
// (x/net's server waits as long).
const goAwayLinger = time.Second

// drain reads and drops what the client still sends, for a while: closing
// with unread bytes resets the connection, and the client may lose the
// GOAWAY that says why before it reads it.
func (c *conn) drain() {
	_ = c.nc.SetReadDeadline(time.Now().Add(goAwayLinger))
	_, _ = io.Copy(io.Discard, c.nc)
}

// checkEvery is how often check runs: the smaller of the idle timeout
// and the PING interval, 0 when neither is set.
func (c *conn) checkEvery() time.Duration {
	t := c.cfg.IdleTimeout
	if p := c.cfg.PingAfter; p > 0 && (t == 0 || p < t) {
		t = p
	}
	return t
}

// check closes an idle connection (no streams for IdleTimeout), sends a
// liveness PING after PingAfter without a frame, and drops a client that
// does not answer it.
func (c *conn) check() {
	now := time.Now()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	idle := len(c.streams) == 0 && c.cfg.IdleTimeout > 0 && now.Sub(c.idleAt) >= c.cfg.IdleTimeout
	tm := c.idleTm
	c.mu.Unlock()
	if idle {
		c.goAway(http2.ErrCodeNo)
		return
	}
	if sent := c.pingSent.Load(); sent != 0 {
		if now.Sub(time.Unix(0, sent)) >= c.cfg.PingTimeout {
			c.fail(errors.New("h2srv: client did not answer PING"))
			c.nc.Close()
			return
		}
	} else if p := c.cfg.PingAfter; p > 0 && now.Sub(time.Unix(0, c.lastRead.Load())) >= p {
		c.pingSent.Store(now.UnixNano())
		_ = c.control(func(fr *http2.Framer) error {
			return fr.WritePing(false, [8]byte{'p', 'o', 'r', 't', 'h', 'o', 'l', 'e'})
		})
	}
	next := c.checkEvery()
	if c.pingSent.Load() != 0 {
		next = min(next, c.cfg.PingTimeout)
	}
	tm.Reset(next)
}

func (c *conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		if s := c.stream(f.StreamID); s != nil {
			s.resetByClient(fmt.Errorf("h2srv: stream reset by the client (%v)", f.ErrCode))
		} else if c.idle(f.StreamID) {
			return c.connError(http2.ErrCodeProtocol)
		}
	case *http2.PingFrame:
		if f.IsAck() {
			c.pingSent.Store(0)
			return nil
		}
		return c.control(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
	case *http2.GoAwayFrame:
		// The client opens nothing more; what is open finishes.
		c.goAway(http2.ErrCodeNo)
	case *http2.PushPromiseFrame:
		return c.connError(http2.ErrCodeProtocol)
	}
	return nil // PRIORITY, unknown frames: ignored
}

func (c *conn) stream(id uint32) *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// idle reports whether id names a stream the client never opened.
func (c *conn) idle(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return id > c.maxID
}

func (c *conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	c.mu.Lock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - int64(c.peerWindow)
			c.peerWindow = int32(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sendWin > 1<<31-1 {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
		case http2.SettingMaxFrameSize:
			c.peerFrame = int(s.Val)
		}
		return nil
	})
	// The encoder is the writers': it changes under wmu, below.
	table, hasTable := f.Value(http2.SettingHeaderTableSize)
	c.cond.Broadcast()
	c.mu.Unlock()
	if err != nil {
		var ce http2.ConnectionError
		if errors.As(err, &ce) {
			return c.connError(http2.ErrCode(ce))
		}
		return c.connError(http2.ErrCodeProtocol)
	}
	return c.control(func(fr *http2.Framer) error {
		if hasTable {
			c.henc.SetMaxDynamicTableSizeLimit(min(table, 4096))
		}
		return fr.WriteSettingsAck()
	})
}

func (c *conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	inc := int64(f.Increment)
	c.mu.Lock()
	if f.StreamID == 0 {
		overflow := c.sendWin+inc > 1<<31-1
		if !overflow {
			c.sendWin += inc
			c.cond.Broadcast()
		}
		c.mu.Unlock()
		if overflow {
			return c.connError(http2.ErrCodeFlowControl)
		}
		return nil
	}
	s := c.streams[f.StreamID]
	idle := f.StreamID > c.maxID
	overflow := s != nil && s.sendWin+inc > 1<<31-1
	if s != nil && !overflow {
		s.sendWin += inc
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	switch {
	case s == nil && idle:
		return c.connError(http2.ErrCodeProtocol)
	case overflow:
		s.reset(http2.ErrCodeFlowControl, errors.New("h2srv: stream window overflow"))
	}
	return nil
}

// onData takes a DATA frame: flow control, then the stream's data.
func (c *conn) onData(f *http2.DataFrame) error {
	size := int64(f.Length)
	c.mu.Lock()
	if !c.recv.Receive(size) {
		c.mu.Unlock()
		return c.connError(http2.ErrCodeFlowControl)
	}
	s := c.streams[f.StreamID]
	idle := f.StreamID > c.maxID
	c.mu.Unlock()
	if s == nil {
		c.credit(nil, size)
		if idle {
			return c.connError(http2.ErrCodeProtocol)
		}
		c.streamError(f.StreamID, http2.ErrCodeStreamClosed)
		return nil
	}
	return s.onData(f.Data(), size, f.StreamEnded())
}

// credit returns n delivered bytes to the client's send windows (the
// connection's, and s's unless nil), a WINDOW_UPDATE once a quarter of a
// window is due.
func (c *conn) credit(s *stream, n int64) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	if c.err != nil {
		// The connection is over; and fail's callers may hold wmu,
		// which the WINDOW_UPDATE below would wait for.
		c.mu.Unlock()
		return
	}
	var sw *h2data.RecvWindow
	var id uint32
	if s != nil && !s.remoteEnd {
		sw, id = &s.recv, s.id
	}
	connInc, streamInc := h2data.Credit(n, &c.recv, int64(c.cfg.ConnWindow), sw, int64(c.cfg.StreamWindow))
	c.mu.Unlock()
	if connInc != 0 || streamInc != 0 {
		_ = c.control(func(fr *http2.Framer) error { return h2data.WriteWindowUpdates(fr, connInc, id, streamInc) })
	}
}

// onHeaders opens a stream (or takes a request's trailers).
func (c *conn) onHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return c.connError(http2.ErrCodeProtocol)
	}
	c.mu.Lock()
	if s := c.streams[id]; s != nil {
		ended := s.remoteEnd
		short := s.declared >= 0 && s.received != s.declared
		c.mu.Unlock()
		// Trailers: they end the request body.
		switch {
		case ended:
			s.reset(http2.ErrCodeStreamClosed, errors.New("h2srv: HEADERS after END_STREAM"))
		case !f.StreamEnded():
			s.reset(http2.ErrCodeProtocol, errors.New("h2srv: second HEADERS without END_STREAM"))
		case short:
			s.reset(http2.ErrCodeProtocol, errors.New("h2srv: body shorter than its Content-Length"))
		default:
			s.remoteEnded()
		}
		return nil
	}
	if id <= c.maxID {
		crossed := f.StreamEnded() && c.wasReset(id)
		c.mu.Unlock()
		if crossed {
			// Trailers the client sent before it read the RST_STREAM
			// that closed the stream (a handler done before the body
			// was): RFC 9113 section 5.1 has them ignored, not the
			// connection ended. The block is decoded: HPACK is in step.
			return nil
		}
		return c.connError(http2.ErrCodeStreamClosed)
	}
	c.maxID = id
	refuse := c.goneAway || c.err != nil || uint32(len(c.streams)) >= c.cfg.MaxConcurrentStreams
	c.mu.Unlock()
	if refuse {
		c.streamError(id, http2.ErrCodeRefusedStream)
		return nil
	}
	s := newStream(c, id, f.StreamEnded())
	if f.Truncated {
		c.add(s)
		go s.answer(http.StatusRequestHeaderFieldsTooLarge, "request headers too large\n")
		return nil
	}
	req, err := c.request(s, f)
	if err != nil {
		c.streamError(id, http2.ErrCodeProtocol)
		return nil
	}
	c.add(s)
	c.handoff = func() { s.serve(req) }
	return nil
}

// maxResetIDs bounds resetIDs: what crosses a RST_STREAM arrives within a
// round trip.
const maxResetIDs = 64

// noteReset remembers that s was reset while the client may still be
// sending on it. c.mu is held.
func (c *conn) noteReset(s *stream) {
	if s.remoteEnd {
		return
	}
	if len(c.resetIDs) == maxResetIDs {
		c.resetIDs = append(c.resetIDs[:0], c.resetIDs[1:]...)
	}
	c.resetIDs = append(c.resetIDs, s.id)
}

// wasReset reports whether the server reset stream id lately. c.mu is
// held.
func (c *conn) wasReset(id uint32) bool {
	for _, r := range c.resetIDs {
		if r == id {
			return true
		}
	}
	return false
}

func (c *conn) add(s *stream) {
	c.mu.Lock()
	s.sendWin = int64(c.peerWindow)
	c.streams[s.id] = s
	c.mu.Unlock()
}

// remove forgets a stream that ended both ways (or was reset).
func (c *conn) remove(s *stream) {
	c.mu.Lock()
	closing := c.forgetLocked(s)
	c.mu.Unlock()
	if closing {
		c.closeAfterWrites()
	}
}

// forgetLocked takes s off the open streams (c.mu is held) and reports
// whether that leaves a connection that sent GOAWAY with nothing open,
// which its caller then closes.
func (c *conn) forgetLocked(s *stream) bool {
	if c.streams[s.id] != s {
		return false
	}
	delete(c.streams, s.id)
	if len(c.streams) > 0 {
		return false
	}
	c.idleAt = time.Now()
	return c.goneAway
}

// endLocked marks s's side ended as its last frame is about to go out
// (c.wmu is held): a stream ended both ways stops counting against
// MaxConcurrentStreams before the client can see it ended and open the
// next. It reports whether the connection closes once the frame is out.
func (c *conn) endLocked(s *stream) bool {
	s.wclosed = true
	c.mu.Lock()
	defer c.mu.Unlock()
	s.localEnd = true
	return s.remoteEnd && c.forgetLocked(s)
}

// closeAfterWrites closes the connection once a frame being written is
// out (GOAWAY, a stream's last frame). c.wmu is not held.
func (c *conn) closeAfterWrites() {
	c.wmu.Lock()
	c.nc.Close()
	c.wmu.Unlock()
}

// control writes frames through wfr and sends them whole.
func (c *conn) control(write func(fr *http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := write(c.wfr); err != nil {
		c.wbuf.Reset()
		return err
	}
	return c.flushLocked()
}

// flushLocked sends what wfr wrote. c.wmu is held.
func (c *conn) flushLocked() error {
	if c.wbuf.Len() == 0 {
		return nil
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	_, err := c.nc.Write(c.wbuf.Bytes())
	c.wbuf.Reset()
	if err != nil {
		c.writeFailed(err)
	}
	return err
}

// writeFailed ends the connection on a failed write (the client took
// nothing for WriteTimeout, or is gone). c.wmu is held. The connection
// closes: nothing could be sent on it any more, and its reader must not
// wait on for a client that may never send again.
func (c *conn) writeFailed(err error) {
	c.fail(fmt.Errorf("h2srv: writing: %w", err))
	c.nc.Close()
}

// writeData sends one DATA frame whose payload is frame[9:]; the header
// is written in place.
func (c *conn) writeData(s *stream, frame []byte, end bool) error {
	n := h2data.PutDataHeader(frame, s.id, end)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if s.wclosed {
		if n > 0 {
			// Reset since the window was booked: it never went out,
			// and the connection's is the client's to keep.
			s.windows().Unbook(n)
		}
		return errStreamDone
	}
	closing := end && c.endLocked(s)
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if _, err := c.nc.Write(frame); err != nil {
		c.writeFailed(err)
		return fmt.Errorf("h2srv: writing: %w", err)
	}
	if closing {
		c.nc.Close()
	}
	return nil
}

// writeHeaders encodes and sends a header block (HEADERS, CONTINUATION).
func (c *conn) writeHeaders(s *stream, fields []hpack.HeaderField, end bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if s.wclosed {
		return errStreamDone
	}
	c.hbuf.Reset()
	for _, f := range fields {
		if err := c.henc.WriteField(f); err != nil {
			return err
		}
	}
	c.mu.Lock()
	frame := c.peerFrame
	c.mu.Unlock()
	if err := h2data.WriteHeaderBlock(c.wfr, s.id, c.hbuf.Bytes(), frame, end); err != nil {
		c.wbuf.Reset()
		return err
	}
	closing := end && c.endLocked(s)
	err := c.flushLocked()
	if closing {
		c.nc.Close()
	}
	return err
}

// streamError resets stream id (RST_STREAM) and forgets it.
func (c *conn) streamError(id uint32, code http2.ErrCode) {
	if s := c.stream(id); s != nil {
		s.reset(code, fmt.Errorf("h2srv: stream error %v", code))
		return
	}
	_ = c.control(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}

// connError sends GOAWAY with code and ends the connection.
func (c *conn) connError(code http2.ErrCode) error {
	// wmu first: a stream's last frame, written once goneAway is set,
	// closes the connection, and must not do so before the GOAWAY is out.
	c.wmu.Lock()
	c.mu.Lock()
	last := c.maxID
	c.goneAway = true
	c.mu.Unlock()
	c.writeGoAwayLocked(last, code)
	c.wmu.Unlock()
	err := fmt.Errorf("h2srv: connection error %v", code)
	c.fail(err)
	return err
}

// goAway stops new streams: GOAWAY, and the connection closes once the
// open ones end.
func (c *conn) goAway(code http2.ErrCode) {
	// wmu first, as in connError: no stream's last frame may close the
	// connection between goneAway and the GOAWAY.
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.goneAway || c.err != nil {
		c.mu.Unlock()
		return
	}
	c.goneAway = true
	last := c.maxID
	empty := len(c.streams) == 0
	c.mu.Unlock()
	// Before the server's SETTINGS (a connection that starts after
	// Shutdown, or still waits for its preface) no GOAWAY may go out:
	// it just closes.
	if c.started {
		c.writeGoAwayLocked(last, code)
	}
	if empty || !c.started {
		c.nc.Close()
	}
}

// writeGoAwayLocked sends GOAWAY with the last stream id and code.
// c.wmu is held.
func (c *conn) writeGoAwayLocked(last uint32, code http2.ErrCode) {
	if c.wfr.WriteGoAway(last, code, nil) == nil {
		_ = c.flushLocked()
	}
	c.wbuf.Reset()
}

// fail ends the connection: every stream fails with err.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := make([]*stream, 0, len(c.streams))
	for _, s := range c.streams {
		streams = append(streams, s)
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, s := range streams {
		s.lost(err)
	}
	c.cancel()
}

func (c *conn) close() {
	c.fail(net.ErrClosed)
	c.mu.Lock()
	tm := c.idleTm
	c.mu.Unlock()
	if tm != nil {
		tm.Stop()
	}
	c.nc.Close()
}

var errStreamDone = errors.New("h2srv: the stream has ended")
