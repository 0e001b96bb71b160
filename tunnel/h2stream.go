package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2data"
	"github.com/porthole-dev/porthole/internal/sockio"
	"github.com/porthole-dev/porthole/internal/stackpre"
	"github.com/porthole-dev/porthole/internal/streamcopy"
)

// h2Stream is one CONNECT stream of an h2Client.
type h2Stream struct {
	c    *h2Client
	id   uint32
	body *reqBody // the upload's source; nil when the caller Writes

	// Guarded by c.mu (the read loop changes them with the connection's).
	sendWin   int64
	recv      h2data.RecvWindow
	remoteEnd bool // END_STREAM (or a reset) from the proxy
	localEnd  bool // END_STREAM (or a reset) sent
	dead      bool // reset or lost: window waits end

	// Guarded by c.wmu.
	wclosed bool // no more frames may go out for it
	rstSent bool

	mu       sync.Mutex
	cond     *sync.Cond
	resp     chan struct{} // closed at the final response or the end
	respDone bool
	status   int
	pending  h2data.Queue    // received, not yet delivered
	end      bool            // END_STREAM read: EOF after pending
	err      error           // the stream failed
	draining bool            // copyDown writes chunks it took: no direct writes
	raw      syscall.RawConn // the local connection, for direct writes (nil: none)
	werr     error           // writing to the local connection failed
	progress func(int)
	downN    int64 // delivered to the local connection (under mu)
}

// open starts a stream with the header fields hdrs (pseudo-headers
// first) on a slot reserve booked, and waits for the final response. With
// body set, the upload starts at once (early data) from body.
func (c *h2Client) open(ctx context.Context, hdrs []hpack.HeaderField, body *reqBody) (*h2Stream, error) {
	s := &h2Stream{c: c, body: body, resp: make(chan struct{}), recv: h2data.RecvWindow{Left: h2StreamWindow}}
	s.cond = sync.NewCond(&s.mu)
	var local syscall.RawConn // the local connection, for early reads
	if body != nil && body.ed != nil {
		// The read loop may write what follows the 200 straight to the
		// local connection, before copyDown runs: the answer and the
		// first bytes often come in one read.
		local, _ = body.ed.local.SyscallConn()
		s.raw = local
	}
	c.wmu.Lock()
	c.mu.Lock()
	c.reserved--
	if c.err != nil || c.goAway {
		err := c.err
		if err == nil {
			err = errH2Closing
		}
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, err
	}
	s.id = c.nextID
	c.nextID += 2
	s.sendWin = int64(c.peerWindow)
	c.streams[s.id] = s
	frame := c.peerFrame
	// The proxy's HPACK table may be smaller than the 4096 bytes the
	// encoder starts with (the encoder then announces the smaller size).
	c.henc.SetMaxDynamicTableSizeLimit(min(c.tableSize, 4096))
	booked := 0
	if local != nil {
		booked = max(int(min(s.sendWin, c.sendWin, int64(frame), maxEarly)), 0)
		s.sendWin -= int64(booked)
		c.sendWin -= int64(booked)
	}
	c.mu.Unlock()
	var early []byte
	if booked > 0 {
		// What the local connection already holds goes in the same write
		// as the HEADERS: one system call, and one read for the proxy.
		bp := h2data.Bufs{}.Get()
		defer h2data.Bufs{}.Put(bp)
		n := body.readNow(local, (*bp)[:booked])
		early = (*bp)[:n]
		if n < booked {
			c.mu.Lock()
			s.sendWin += int64(booked - n)
			c.sendWin += int64(booked - n)
			c.cond.Broadcast()
			c.mu.Unlock()
		}
	}
	err := c.writeHeadersLocked(s.id, hdrs, frame, early)
	c.wmu.Unlock()
	if err != nil {
		s.ended(err)
		return nil, err
	}
	if body != nil {
		go s.upload()
	}
	select {
	case <-s.resp:
	case <-ctx.Done():
		select {
		case <-s.resp:
			// The answer came as well: it wins, as it would have if this
			// goroutine had run first (its bytes may be delivered already).
		default:
			s.reset(http2.ErrCodeCancel, fmt.Errorf("%w: %w", net.ErrClosed, ctx.Err()))
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	status, serr := s.status, s.err
	s.mu.Unlock()
	if status == 0 {
		return nil, serr
	}
	return s, nil
}

// writeHeadersLocked encodes and sends HEADERS (and CONTINUATION when the
// block is larger than a frame), and early as a DATA frame behind them in
// the same write when not empty (its window booked, at most a frame).
// c.wmu is held: the encoder's state and stream ids must reach the wire in
// order.
func (c *h2Client) writeHeadersLocked(id uint32, hdrs []hpack.HeaderField, frame int, early []byte) error {
	c.hbuf.Reset()
	for _, f := range hdrs {
		if err := c.henc.WriteField(f); err != nil {
			return err
		}
	}
	err := h2data.WriteHeaderBlock(c.wfr, id, c.hbuf.Bytes(), frame, false)
	if err == nil && len(early) > 0 {
		err = c.wfr.WriteData(id, false, early)
	}
	if err != nil {
		c.wbuf.Reset()
		return err
	}
	return c.flushControlLocked()
}

// onHeaders takes the response (or trailers) from the read loop.
func (s *h2Stream) onHeaders(f *http2.MetaHeadersFrame) {
	if f.Truncated {
		s.reset(http2.ErrCodeProtocol, fmt.Errorf("%w: %s sent response headers over %d bytes", ErrProxyEnded, s.c.host, h2MaxHeaders))
		return
	}
	s.mu.Lock()
	if s.status != 0 { // trailers: they must end the stream
		s.mu.Unlock()
		if !f.StreamEnded() {
			s.reset(http2.ErrCodeProtocol, fmt.Errorf("%w: %s sent a second HEADERS that does not end the stream", ErrProxyEnded, s.c.host))
			return
		}
		s.remoteEnded()
		return
	}
	code, err := strconv.Atoi(f.PseudoValue("status"))
	if err != nil || code < 100 || code > 599 {
		s.mu.Unlock()
		s.reset(http2.ErrCodeProtocol, fmt.Errorf("%w: %s answered without a valid :status", ErrProxyEnded, s.c.host))
		return
	}
	if code < 200 {
		s.mu.Unlock()
		if f.StreamEnded() {
			s.reset(http2.ErrCodeProtocol, fmt.Errorf("%w: %s ended the stream with an informational answer", ErrProxyEnded, s.c.host))
		}
		return // informational: the final answer follows
	}
	s.status = code
	if !s.respDone {
		s.respDone = true
		close(s.resp)
	}
	s.mu.Unlock()
	if f.StreamEnded() {
		s.remoteEnded()
	}
}

// remoteEnded is END_STREAM from the proxy.
func (s *h2Stream) remoteEnded() {
	c := s.c
	c.mu.Lock()
	s.remoteEnd = true
	done := s.localEnd
	c.mu.Unlock()
	s.mu.Lock()
	s.end = true
	s.cond.Broadcast()
	s.mu.Unlock()
	if done {
		c.remove(s)
	}
}

// onData takes a DATA payload from the read loop: written straight to the
// local connection when copyDown waits with nothing pending and the
// connection takes it at once, else kept (copied) for copyDown or Read.
// size is the frame's flow-controlled length (payload and padding).
func (s *h2Stream) onData(data []byte, size int64, endStream bool) error {
	c := s.c
	c.mu.Lock()
	if s.remoteEnd {
		c.mu.Unlock()
		c.credit(nil, size)
		s.reset(http2.ErrCodeStreamClosed, fmt.Errorf("%w: %s sent DATA after the end of the stream", ErrProxyEnded, c.host))
		return nil
	}
	if !s.recv.Receive(size) {
		c.mu.Unlock()
		c.credit(nil, size)
		s.reset(http2.ErrCodeFlowControl, fmt.Errorf("%w: %s sent DATA beyond the stream window", ErrProxyEnded, c.host))
		return nil
	}
	c.mu.Unlock()

	s.mu.Lock()
	if s.status == 0 {
		s.mu.Unlock()
		c.credit(nil, size)
		s.reset(http2.ErrCodeProtocol, fmt.Errorf("%w: %s sent DATA before its answer", ErrProxyEnded, c.host))
		return nil
	}
	delivered := 0
	if s.err != nil || s.werr != nil {
		delivered = len(data) // dropped: the stream is ending
	} else {
		if !s.draining && s.status == http.StatusOK && s.pending.Len() == 0 && s.raw != nil && len(data) > 0 {
			delivered = s.writeNow(data)
		}
		s.pending.Keep(data[delivered:])
	}
	woke := delivered < len(data) || s.werr != nil
	if delivered > 0 && s.werr == nil && s.err == nil {
		s.downN += int64(delivered)
		if s.progress != nil {
			s.progress(delivered)
		}
	}
	if woke {
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	c.credit(s, int64(delivered)+size-int64(len(data)))
	if endStream {
		s.remoteEnded()
	}
	return nil
}

// writeNow writes p to the local connection without waiting and returns
// how much it took. s.mu is held; no copyDown drain is under way.
func (s *h2Stream) writeNow(p []byte) int {
	n, err := sockio.WriteNow(s.raw, p)
	if err != nil {
		s.werr = err
	}
	return n
}

// dropPending frees what is held (a failed stream) and returns its size,
// for the caller to give back to the connection's window once s.mu is
// released (credit takes c.mu, which is taken before s.mu). s.mu is held.
func (s *h2Stream) dropPending() int64 { return s.pending.Drop() }

// copyDown writes what the proxy sends to local until the stream ends:
// it is pipe's download, instead of a copy loop over Read.
func (s *h2Stream) copyDown(local net.Conn, progress func(int)) (res streamcopy.Result) {
	var raw syscall.RawConn
	if tc, ok := local.(*net.TCPConn); ok {
		raw, _ = tc.SyscallConn()
	}
	s.mu.Lock()
	s.raw, s.progress = raw, progress
	if s.downN > 0 && progress != nil {
		progress(int(s.downN))
	}
	var dropped int64
	defer func() {
		s.raw, s.progress = nil, nil
		res.N = s.downN
		s.mu.Unlock()
		s.c.credit(nil, dropped)
	}()
	for {
		for s.pending.Len() == 0 && !s.end && s.err == nil && s.werr == nil {
			s.cond.Wait()
		}
		switch {
		case s.werr != nil:
			res.WriteErr = s.werr
			dropped = s.dropPending()
			return res
		case s.err != nil:
			res.ReadErr = s.err
			dropped = s.dropPending()
			return res
		case s.pending.Len() == 0: // ended
			return res
		}
		chunks := s.pending.Take()
		s.draining = true
		s.mu.Unlock()
		werr := chunks.Drain(local.Write, func(size, took int, _ bool) {
			if took > 0 {
				s.mu.Lock()
				s.downN += int64(took)
				s.mu.Unlock()
				if progress != nil {
					progress(took)
				}
				s.c.credit(s, int64(took))
			}
			if size > took { // not delivered: back to the connection's window
				s.c.credit(nil, int64(size-took))
			}
		})
		s.mu.Lock()
		s.draining = false
		if werr != nil && s.werr == nil {
			s.werr = werr
		}
	}
}

// Read reads what the proxy sent (a refusal's body; connect-udp capsules).
func (s *h2Stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	for s.pending.Len() == 0 && !s.end && s.err == nil {
		s.cond.Wait()
	}
	// What came before END_STREAM is whole: a proxy's RST_STREAM after
	// it (Go's server stops the upload of a refused CONNECT that way)
	// must not drop the refusal's body.
	if s.err != nil && (s.pending.Len() == 0 || !s.end) {
		err := s.err
		dropped := s.dropPending()
		s.mu.Unlock()
		s.c.credit(nil, dropped)
		return 0, err
	}
	if s.pending.Len() == 0 {
		s.mu.Unlock()
		return 0, io.EOF
	}
	n := s.pending.Read(p)
	s.mu.Unlock()
	s.c.credit(s, int64(n))
	return n, nil
}

// take waits for window and books up to n bytes of it, one frame's worth
// at most.
func (s *h2Stream) take(n int) (int, error) { return s.windows().Take(n, s.sendErr) }

// windows are s's send windows and the connection's, guarded by c.mu.
func (s *h2Stream) windows() h2data.SendWindows {
	c := s.c
	return h2data.SendWindows{
		Cond: c.cond, Stream: &s.sendWin, Conn: &c.sendWin, Frame: &c.peerFrame,
		Dead: &s.dead, ConnErr: &c.err,
	}
}

// sendErr is why nothing more can be sent.
func (s *h2Stream) sendErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return fmt.Errorf("%w: the stream to %s ended", ErrProxyEnded, s.c.host)
}

// send sends frame[9:] as DATA frames, as the windows allow; the header
// of each goes in place in front of its payload.
func (s *h2Stream) send(frame []byte) error {
	return h2data.SendFrames(frame, s.take, func(f []byte) error { return s.c.writeData(s, f, false) })
}

// sendEnd half-closes the stream (an empty DATA with END_STREAM).
func (s *h2Stream) sendEnd() error {
	var hdr [h2data.FrameHeader]byte
	if err := s.c.writeData(s, hdr[:], true); err != nil {
		return err
	}
	c := s.c
	c.mu.Lock()
	s.localEnd = true
	done := s.remoteEnd
	c.mu.Unlock()
	if done {
		c.remove(s)
	}
	return nil
}

// Write sends p as DATA (connect-udp capsules).
func (s *h2Stream) Write(p []byte) (int, error) {
	return h2data.SendCopy(p, s.send)
}

// upload sends the body until it ends (END_STREAM) or fails (RST_STREAM).
// A local TCP connection is read straight into a pooled buffer once it
// has data, so an idle tunnel holds no buffer.
func (s *h2Stream) upload() {
	stackpre.To4K() // its first read of the local connection runs deep
	var bp *[]byte
	defer func() {
		if bp != nil {
			h2data.Bufs{}.Put(bp)
		}
	}()
	var raw syscall.RawConn
	var rawOf *net.TCPConn
	for {
		k, err := s.windows().Window(s.sendErr)
		if err != nil {
			go s.body.Close()
			return
		}
		if tc := s.body.direct(); tc != nil {
			if rawOf != tc {
				raw, rawOf = nil, tc
				if raw, err = tc.SyscallConn(); err != nil {
					raw = nil
				}
			}
		} else {
			raw = nil
		}
		n, rerr := h2data.ReadData(raw, s.body.Read, &bp, k)
		if raw != nil {
			// A socket read bypasses s.body.Read, which counts its own.
			n, rerr = s.body.account(n, rerr)
		}
		if n > 0 {
			if err := s.send((*bp)[:h2data.FrameHeader+n]); err != nil {
				go s.body.Close()
				return
			}
		}
		h2data.ReleaseData(raw, &bp)
		switch {
		case rerr == io.EOF:
			if s.sendEnd() != nil {
				go s.body.Close()
			}
			return
		case errors.Is(rerr, errEarlyStopped):
			return // a refused attempt: its caller resets the stream
		case rerr != nil:
			s.reset(http2.ErrCodeCancel, fmt.Errorf("%w: reading the local connection: %w", net.ErrClosed, rerr))
			return
		}
	}
}

// reset sends RST_STREAM with code (once) and fails the stream with err.
func (s *h2Stream) reset(code http2.ErrCode, err error) {
	c := s.c
	c.wmu.Lock()
	send := !s.rstSent
	s.rstSent, s.wclosed = true, true
	if send {
		c.mu.Lock()
		alive := c.err == nil
		c.mu.Unlock()
		if alive && c.wfr.WriteRSTStream(s.id, code) == nil {
			_ = c.flushControlLocked()
		}
		c.wbuf.Reset()
	}
	c.wmu.Unlock()
	c.remove(s)
	s.ended(err)
}

// ended fails the stream with err (the first cause wins) and wakes every
// wait on it; the upload's source is closed, as a transport closes a
// request body, so a read blocked on the local connection returns.
func (s *h2Stream) ended(err error) {
	c := s.c
	c.mu.Lock()
	wasDead := s.dead
	s.dead, s.remoteEnd, s.localEnd = true, true, true
	c.cond.Broadcast()
	c.mu.Unlock()
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	if !s.respDone {
		s.respDone = true
		close(s.resp)
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	if s.body != nil && !wasDead {
		go s.body.Close()
	}
}

// failure is why the stream failed (nil if it has not).
func (s *h2Stream) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// finished reports whether both sides ended the stream in order.
func (s *h2Stream) finished() bool {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.remoteEnd && s.localEnd && !s.dead
}
