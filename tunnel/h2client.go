package tunnel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2data"
)

// h2Client is the tunnel's own HTTP/2 client connection: CONNECT (and
// extended CONNECT) streams only, RFC 9113. x/net's general-purpose
// transport copies every byte through a per-stream pipe and a frame
// buffer; here DATA frames are written in place from the buffer the local
// connection was read into (9 bytes of room in front for the frame
// header), and DATA arriving from the proxy is written straight to the
// local connection from the frame reader's buffer whenever it takes it at
// once. x/net's Framer still parses and validates every frame it reads.
type h2Client struct {
	conn net.Conn // the TLS connection (writes batched into one syscall)
	fr   *http2.Framer
	host string // for messages

	wmu  sync.Mutex // serializes frames on the wire; taken before mu, never after
	wfr  *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer
	wbuf bytes.Buffer // control frames, written by wfr then sent whole

	mu         sync.Mutex
	cond       *sync.Cond // send windows, settings and failure
	streams    map[uint32]*h2Stream
	nextID     uint32
	reserved   int
	maxStreams int
	peerFrame  int               // the largest DATA payload the proxy takes
	peerWindow int32             // SETTINGS_INITIAL_WINDOW_SIZE of the proxy
	sendWin    int64             // connection send window
	recv       h2data.RecvWindow // the connection's receive window
	extConnect bool              // the proxy offers RFC 8441 extended CONNECT
	tableSize  uint32            // the proxy's SETTINGS_HEADER_TABLE_SIZE (HPACK)
	settings   chan struct{}
	gotSetting bool
	goAway     bool
	goAwayID   uint32
	err        error // why the connection ended; nil while it runs

	readIdle, pingTimeout time.Duration

	lastRead atomic.Int64 // unix nanos of the last frame read
	pingSent atomic.Int64 // unix nanos of an unanswered liveness PING, 0 none
	idleTm   *time.Timer
}

// Our side of the flow control: large windows so one stream is not held
// to a few round trips in flight; data beyond what the local application
// takes at once is held only up to these.
const (
	h2StreamWindow = 4 << 20
	h2ConnWindow   = 32 << 20
	h2MaxFrameRead = 256 << 10 // SETTINGS_MAX_FRAME_SIZE we announce
	h2MaxHeaders   = 64 << 10
	// h2ReadIdle and h2PingTimeout find a proxy gone silent: a PING after
	// this long without a frame, and the connection is dropped when the
	// PING gets no answer in time.
	h2ReadIdle    = 30 * time.Second
	h2PingTimeout = 15 * time.Second
	h2WriteLimit  = 2 * time.Minute // a write the proxy takes nothing of
)

var errH2Closing = errors.New("the HTTP/2 connection to the proxy is closing")

// newH2Client starts HTTP/2 on an established TLS connection that
// negotiated h2: our preface and settings go out at once; the proxy's
// settings are read by the read loop.
func newH2Client(conn net.Conn, host string) (*h2Client, error) {
	return newH2ClientIdle(conn, host, h2ReadIdle, h2PingTimeout)
}

// newH2ClientIdle is newH2Client with the liveness check's durations.
func newH2ClientIdle(conn net.Conn, host string, readIdle, pingTimeout time.Duration) (*h2Client, error) {
	c := &h2Client{
		readIdle: readIdle, pingTimeout: pingTimeout,
		conn: conn, host: host,
		streams: map[uint32]*h2Stream{}, nextID: 1,
		maxStreams: 100, peerFrame: 16 << 10, peerWindow: 65535, tableSize: 4096,
		sendWin: 65535, recv: h2data.RecvWindow{Left: h2ConnWindow}, settings: make(chan struct{}),
	}
	c.cond = sync.NewCond(&c.mu)
	c.fr = http2.NewFramer(nil, conn)
	c.fr.SetMaxReadFrameSize(h2MaxFrameRead)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = h2MaxHeaders
	c.wfr = http2.NewFramer(&c.wbuf, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)

	c.wmu.Lock()
	c.wbuf.WriteString(http2.ClientPreface)
	err := c.wfr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxFrameSize, Val: h2MaxFrameRead},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h2MaxHeaders},
	)
	if err == nil {
		err = c.wfr.WriteWindowUpdate(0, h2ConnWindow-65535)
	}
	if err == nil {
		err = c.flushControlLocked()
	}
	c.wmu.Unlock()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("starting HTTP/2 with %s: %w", host, err)
	}
	c.lastRead.Store(time.Now().UnixNano())
	c.idleTm = time.AfterFunc(c.readIdle, c.checkIdle)
	go c.readLoop()
	return c, nil
}

// flushControlLocked sends the control frames wfr wrote. c.wmu is held.
func (c *h2Client) flushControlLocked() error {
	if c.wbuf.Len() == 0 {
		return nil
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(h2WriteLimit))
	_, err := c.conn.Write(c.wbuf.Bytes())
	c.wbuf.Reset()
	if err != nil {
		c.fail(fmt.Errorf("writing to %s: %w", c.host, err))
	}
	return err
}

// control writes one control frame (write is a call on wfr).
func (c *h2Client) control(write func(fr *http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := write(c.wfr); err != nil {
		c.wbuf.Reset()
		return err
	}
	return c.flushControlLocked()
}

// writeData sends one DATA frame whose payload is frame[9:]: the header is
// written in place, so the payload is not copied before TLS encrypts it.
func (c *h2Client) writeData(s *h2Stream, frame []byte, end bool) error {
	n := h2data.PutDataHeader(frame, s.id, end)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if s.wclosed {
		if n > 0 {
			// Reset since the window was booked: the frame never goes
			// out, and the connection's window is the proxy's to keep.
			s.windows().Unbook(n)
		}
		return s.sendErr()
	}
	if end {
		s.wclosed = true
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(h2WriteLimit))
	if _, err := c.conn.Write(frame); err != nil {
		err = fmt.Errorf("writing to %s: %w", c.host, err)
		c.fail(err)
		return err
	}
	return nil
}

// usable reports whether the connection takes new streams.
func (c *h2Client) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && !c.goAway
}

// reserve books a stream slot for open (false: the connection is full,
// closing or dead).
func (c *h2Client) reserve() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.goAway || len(c.streams)+c.reserved >= c.maxStreams || c.nextID >= 1<<31-1 {
		return false
	}
	c.reserved++
	return true
}

func (c *h2Client) unreserve() {
	c.mu.Lock()
	c.reserved--
	c.mu.Unlock()
}

// failed is why the connection ended (nil while it runs).
func (c *h2Client) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close drops the connection and fails every stream on it.
func (c *h2Client) Close() error {
	c.fail(net.ErrClosed)
	return nil
}

// fail ends the connection with err (the first cause wins) and wakes
// every stream, which then fails with it.
func (c *h2Client) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := make([]*h2Stream, 0, len(c.streams))
	for _, s := range c.streams {
		streams = append(streams, s)
	}
	clear(c.streams)
	c.cond.Broadcast()
	if !c.gotSetting {
		c.gotSetting = true
		close(c.settings)
	}
	c.mu.Unlock()
	if c.idleTm != nil {
		c.idleTm.Stop()
	}
	c.conn.Close()
	for _, s := range streams {
		s.ended(fmt.Errorf("%w: %w", errStreamLost, err))
	}
}

var errStreamLost = errors.New("the HTTP/2 connection to the proxy ended")

// connError ends the connection for a protocol violation by the proxy,
// telling it why (GOAWAY) first.
func (c *h2Client) connError(code http2.ErrCode, why string) error {
	err := fmt.Errorf("HTTP/2 protocol error from %s (%v): %s", c.host, code, why)
	c.mu.Lock()
	last := c.nextID - 2
	c.mu.Unlock()
	if c.wmu.TryLock() { // best effort: a stuck writer must not hold this up
		if c.wfr.WriteGoAway(last, code, nil) == nil {
			_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.conn.Write(c.wbuf.Bytes())
		}
		c.wbuf.Reset()
		c.wmu.Unlock()
	}
	c.fail(err)
	return err
}

// checkIdle pings a proxy that has sent nothing for a while and drops a
// connection whose PING went unanswered.
func (c *h2Client) checkIdle() {
	now := time.Now()
	last := time.Unix(0, c.lastRead.Load())
	if sent := c.pingSent.Load(); sent != 0 {
		if last.Before(time.Unix(0, sent)) {
			c.fail(fmt.Errorf("%s did not answer a PING within %s", c.host, c.pingTimeout))
			return
		}
		c.pingSent.Store(0)
	}
	if idle := now.Sub(last); idle < c.readIdle {
		c.idleTm.Reset(c.readIdle - idle)
		return
	}
	c.pingSent.Store(now.UnixNano())
	c.idleTm.Reset(c.pingTimeout) // before the write: its answer may come first
	_ = c.control(func(fr *http2.Framer) error {
		return fr.WritePing(false, [8]byte{'p', 'o', 'r', 't', 'h', 'o', 'l', 'e'})
	})
}

// readLoop reads every frame until the connection ends.
func (c *h2Client) readLoop() {
	for {
		f, err := c.fr.ReadFrame()
		c.lastRead.Store(time.Now().UnixNano())
		if err != nil {
			var se http2.StreamError
			switch {
			case errors.As(err, &se):
				c.streamError(se.StreamID, se.Code, fmt.Errorf("from %s: %w", c.host, err))
				continue
			case errors.Is(err, http2.ErrFrameTooLarge):
				c.connError(http2.ErrCodeFrameSize, "frame larger than SETTINGS_MAX_FRAME_SIZE")
			case isConnError(err):
				c.connError(http2.ErrCode(err.(http2.ConnectionError)), fmt.Sprint(errors.Join(err, c.fr.ErrorDetail())))
			case errors.Is(err, io.EOF):
				c.fail(fmt.Errorf("%s closed the connection: %w", c.host, io.ErrUnexpectedEOF))
			default:
				c.fail(fmt.Errorf("reading from %s: %w", c.host, err))
			}
			return
		}
		if err := c.handle(f); err != nil {
			return
		}
	}
}

func isConnError(err error) bool {
	_, ok := err.(http2.ConnectionError)
	return ok
}

// handle acts on one frame; an error ended the connection.
func (c *h2Client) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		if s := c.stream(f.StreamID); s != nil {
			c.remove(s)
			s.ended(fmt.Errorf("%w: %s reset the stream (%v)", ErrProxyEnded, c.host, f.ErrCode))
		} else if c.idle(f.StreamID) {
			return c.connError(http2.ErrCodeProtocol, "RST_STREAM on an idle stream")
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			return c.control(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
		}
		if c.pingSent.Swap(0) != 0 {
			c.idleTm.Reset(c.readIdle) // answered: the next check after a full idle time
		}
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		return c.connError(http2.ErrCodeProtocol, "PUSH_PROMISE although push is disabled")
	}
	// PRIORITY and unknown frame types are ignored (RFC 9113 §5.5).
	return nil
}

func (c *h2Client) stream(id uint32) *h2Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// idle reports whether id names a stream we never opened: frames on it
// are a connection error.
func (c *h2Client) idle(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return id%2 == 0 || id >= c.nextID
}

// remove forgets s: no frame for it is expected any more (it ended both
// ways, or one side reset it).
func (c *h2Client) remove(s *h2Stream) {
	c.mu.Lock()
	delete(c.streams, s.id)
	closeNow := c.goAway && len(c.streams) == 0 && c.reserved == 0
	c.mu.Unlock()
	if closeNow {
		c.fail(errH2Closing)
	}
}

// streamError resets one stream for a stream-level error of the proxy.
func (c *h2Client) streamError(id uint32, code http2.ErrCode, err error) {
	if s := c.stream(id); s != nil {
		s.reset(code, fmt.Errorf("%w: %w", ErrProxyEnded, err))
		return
	}
	_ = c.control(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}

func (c *h2Client) onData(f *http2.DataFrame) error {
	size := int64(f.Header().Length)
	c.mu.Lock()
	if !c.recv.Receive(size) {
		c.mu.Unlock()
		return c.connError(http2.ErrCodeFlowControl, "DATA beyond the connection window")
	}
	s := c.streams[f.StreamID]
	idle := f.StreamID%2 == 0 || f.StreamID >= c.nextID
	c.mu.Unlock()
	if s == nil {
		if idle {
			return c.connError(http2.ErrCodeProtocol, "DATA on an idle stream")
		}
		// A stream we reset or finished: its bytes still count for the
		// connection window.
		c.credit(nil, size)
		return nil
	}
	return s.onData(f.Data(), size, f.StreamEnded())
}

// credit returns n delivered bytes to the proxy's send windows (the
// connection's, and s's unless nil), a WINDOW_UPDATE once a quarter of a
// window is due.
func (c *h2Client) credit(s *h2Stream, n int64) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	var sw *h2data.RecvWindow
	var id uint32
	if s != nil && !s.remoteEnd {
		sw, id = &s.recv, s.id
	}
	connInc, streamInc := h2data.Credit(n, &c.recv, h2ConnWindow, sw, h2StreamWindow)
	c.mu.Unlock()
	if connInc != 0 || streamInc != 0 {
		_ = c.control(func(fr *http2.Framer) error { return h2data.WriteWindowUpdates(fr, connInc, id, streamInc) })
	}
}

func (c *h2Client) onHeaders(f *http2.MetaHeadersFrame) error {
	s := c.stream(f.StreamID)
	if s == nil {
		if c.idle(f.StreamID) {
			return c.connError(http2.ErrCodeProtocol, "HEADERS on an idle stream")
		}
		return nil
	}
	s.onHeaders(f)
	return nil
}

func (c *h2Client) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	c.mu.Lock()
	err := f.ForeachSetting(func(st http2.Setting) error {
		if err := st.Valid(); err != nil {
			return err
		}
		switch st.ID {
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams = int(min(st.Val, 1000))
		case http2.SettingMaxFrameSize:
			c.peerFrame = int(st.Val)
		case http2.SettingEnableConnectProtocol:
			c.extConnect = st.Val == 1
		case http2.SettingInitialWindowSize:
			delta := int64(st.Val) - int64(c.peerWindow)
			for _, s := range c.streams {
				if s.sendWin+delta > 1<<31-1 {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			for _, s := range c.streams {
				s.sendWin += delta
			}
			c.peerWindow = int32(st.Val)
		case http2.SettingHeaderTableSize:
			c.tableSize = st.Val // applied by the encoder at the next HEADERS
		}
		return nil
	})
	if !c.gotSetting {
		c.gotSetting = true
		close(c.settings)
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	if err != nil {
		code := http2.ErrCodeProtocol
		if ce, ok := err.(http2.ConnectionError); ok {
			code = http2.ErrCode(ce)
		}
		return c.connError(code, "bad SETTINGS: "+err.Error())
	}
	return c.control(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
}

func (c *h2Client) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	if f.StreamID == 0 {
		if c.sendWin+int64(f.Increment) > 1<<31-1 {
			c.mu.Unlock()
			return c.connError(http2.ErrCodeFlowControl, "connection window above 2^31-1")
		}
		c.sendWin += int64(f.Increment)
		c.cond.Broadcast()
		c.mu.Unlock()
		return nil
	}
	s := c.streams[f.StreamID]
	idle := f.StreamID%2 == 0 || f.StreamID >= c.nextID
	overflow := s != nil && s.sendWin+int64(f.Increment) > 1<<31-1
	if s != nil && !overflow {
		s.sendWin += int64(f.Increment)
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	switch {
	case s == nil && idle:
		return c.connError(http2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream")
	case overflow:
		s.reset(http2.ErrCodeFlowControl, fmt.Errorf("%w: %s sent a stream window above 2^31-1", ErrProxyEnded, c.host))
	}
	return nil
}

func (c *h2Client) onGoAway(f *http2.GoAwayFrame) {
	c.mu.Lock()
	c.goAway = true
	c.goAwayID = f.LastStreamID
	var refused []*h2Stream
	for id, s := range c.streams {
		if id > f.LastStreamID {
			refused = append(refused, s)
			delete(c.streams, id)
		}
	}
	closeNow := len(c.streams) == 0 && c.reserved == 0
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, s := range refused {
		s.ended(fmt.Errorf("%w: %s is going away (GOAWAY %v) and did not take this stream", errStreamLost, c.host, f.ErrCode))
	}
	if closeNow {
		c.fail(errH2Closing)
	}
}
