package h2srv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2data"
	"github.com/porthole-dev/porthole/internal/sockio"
)

// stream is one request: its body (what the client sends) and its
// ResponseWriter (what goes back).
type stream struct {
	c      *conn
	id     uint32
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by c.mu (the reader changes them with the connection's).
	sendWin   int64
	recv      h2data.RecvWindow
	remoteEnd bool  // END_STREAM (or a reset) from the client
	localEnd  bool  // END_STREAM (or a reset) sent
	dead      bool  // reset or lost: window waits end
	declared  int64 // the request's Content-Length, -1 without one
	received  int64 // body bytes read so far

	// Guarded by c.wmu.
	wclosed bool // no more frames may go out for it
	rstSent bool

	mu         sync.Mutex
	cond       *sync.Cond
	pending    h2data.Queue // received, not yet delivered
	end        bool         // END_STREAM read: EOF after pending
	err        error        // the stream failed
	bodyClosed bool         // the handler closed the body: what comes is dropped
	parked     bool         // nothing pending and no upload draining (UploadTo waits, or Deliver opened the path): direct writes go
	raw        syscall.RawConn
	werr       error // writing to the upstream failed
	progress   func(int)
	upN        int64       // delivered to the upstream (under mu)
	readDL     *time.Timer // under mu: SetReadDeadline's
	writeDL    *time.Timer // under mu: SetWriteDeadline's

	// The response: the handler's goroutine only.
	hdr         http.Header
	status      int
	wroteHeader bool
	sentHeader  bool
	head        bool // a HEAD request: no body goes out
}

func newStream(c *conn, id uint32, ended bool) *stream {
	ctx, cancel := context.WithCancel(c.ctx)
	s := &stream{c: c, id: id, ctx: ctx, cancel: cancel, recv: h2data.RecvWindow{Left: int64(c.cfg.StreamWindow)}, hdr: http.Header{}, remoteEnd: ended, end: ended, declared: -1}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// request builds the handler's request from the header block.
func (c *conn) request(s *stream, f *http2.MetaHeadersFrame) (*http.Request, error) {
	method, authority := f.PseudoValue("method"), f.PseudoValue("authority")
	scheme, path, protocol := f.PseudoValue("scheme"), f.PseudoValue("path"), f.PseudoValue("protocol")
	if method == "" || !httpguts.ValidHostHeader(authority) {
		return nil, errors.New("bad pseudo-headers")
	}
	var u *url.URL
	requestURI := path
	switch {
	case method == http.MethodConnect && protocol == "":
		if authority == "" || scheme != "" || path != "" {
			return nil, errors.New("CONNECT with :scheme or :path")
		}
		u, requestURI = &url.URL{Host: authority}, authority
	case protocol != "" && (method != http.MethodConnect || !c.cfg.ExtendedConnect):
		return nil, errors.New(":protocol without extended CONNECT")
	default:
		if scheme == "" || path == "" {
			return nil, errors.New("missing :scheme or :path")
		}
		var err error
		if u, err = url.ParseRequestURI(path); err != nil {
			return nil, err
		}
	}
	header := http.Header{}
	var cookies []string
	for _, hf := range f.RegularFields() {
		k := http.CanonicalHeaderKey(hf.Name)
		switch k {
		case "Cookie":
			cookies = append(cookies, hf.Value)
			continue
		case "Connection", "Proxy-Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade":
			// Malformed in HTTP/2 (RFC 9113 section 8.2.2); a handler
			// that proxies must never see them.
			return nil, fmt.Errorf("connection-specific header %q", hf.Name)
		case "Te":
			if hf.Value != "trailers" {
				return nil, errors.New(`"te" other than "trailers"`)
			}
		}
		header.Add(k, hf.Value)
	}
	if len(cookies) > 0 {
		header.Set("Cookie", strings.Join(cookies, "; "))
	}
	if authority == "" && method != http.MethodConnect {
		// A request without :authority may carry Host (RFC 9113
		// section 8.3.1), as x/net's server takes it.
		authority = header.Get("Host")
		if !httpguts.ValidHostHeader(authority) {
			return nil, errors.New("bad Host")
		}
	}
	if protocol != "" {
		header.Set(":protocol", protocol)
	}
	r := &http.Request{
		Method: method, URL: u, RequestURI: requestURI, Host: authority,
		Proto: "HTTP/2.0", ProtoMajor: 2, Header: header,
		RemoteAddr: c.remote, TLS: c.tls, ContentLength: -1,
	}
	if f.StreamEnded() {
		r.Body, r.ContentLength = http.NoBody, 0
	} else {
		if cl, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && cl >= 0 {
			r.ContentLength, s.declared = cl, cl
		}
		r.Body = (*body)(s)
	}
	s.head = method == http.MethodHead
	return r.WithContext(s.ctx), nil
}

// serve runs the handler on the stream and ends it.
func (s *stream) serve(r *http.Request) {
	defer s.cancel()
	defer func() {
		if e := recover(); e != nil {
			s.stopDeadlines()
			if e != http.ErrAbortHandler {
				s.c.cfg.Log.Error("http2: panic serving", "remote", s.c.remote, "panic", fmt.Sprint(e))
			}
			s.reset(http2.ErrCodeInternal, fmt.Errorf("h2srv: handler panicked: %v", e))
			return
		}
		s.finish()
	}()
	if t := s.c.cfg.StreamTimeout; t > 0 {
		d := time.Now().Add(t)
		_ = s.SetReadDeadline(d)
		_ = s.SetWriteDeadline(d)
	}
	s.c.cfg.Handler.ServeHTTP(s, r)
}

// answer writes a whole response without running the handler (headers
// too large).
func (s *stream) answer(code int, text string) {
	defer s.cancel()
	s.hdr.Set("Content-Type", "text/plain; charset=utf-8")
	s.WriteHeader(code)
	_, _ = io.WriteString(s, text)
	s.finish()
}

// finish ends the response after the handler returned: the header if it
// was never sent, then END_STREAM (on trailers when there are any); and a
// client still sending is told to stop (RST_STREAM NO_ERROR, RFC 9113
// section 8.1).
func (s *stream) finish() {
	s.stopDeadlines()
	// What the handler left unread goes back to the connection's window:
	// a stream that ends both ways is forgotten without lost, and its
	// bytes would stay booked for good.
	_ = (*body)(s).Close()
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	trailers := s.trailers()
	var err error
	switch {
	case !s.sentHeader:
		err = s.sendHeader(len(trailers) == 0, nil)
		if err == nil && len(trailers) > 0 {
			err = s.c.writeHeaders(s, trailers, true)
		}
	case len(trailers) > 0:
		err = s.c.writeHeaders(s, trailers, true)
	default:
		var hdr [h2data.FrameHeader]byte
		err = s.c.writeData(s, hdr[:], true)
	}
	if err != nil && !errors.Is(err, errStreamDone) {
		s.reset(http2.ErrCodeInternal, err)
		return
	}
	// The last frame forgot the stream already if the client had ended
	// its side; else the client is told to stop sending.
	c := s.c
	c.mu.Lock()
	s.localEnd = true
	done := s.remoteEnd
	c.mu.Unlock()
	if done {
		c.remove(s)
		return
	}
	s.reset(http2.ErrCodeNo, errors.New("h2srv: response complete"))
}

// trailers are the header fields the handler declared in "Trailer" (or
// set with http.TrailerPrefix), lowercased for the wire.
func (s *stream) trailers() []hpack.HeaderField {
	var out []hpack.HeaderField
	for _, v := range s.hdr["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			for _, val := range s.hdr[k] {
				out = appendField(out, k, val)
			}
		}
	}
	for k, vs := range s.hdr {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, val := range vs {
				out = appendField(out, name, val)
			}
		}
	}
	return out
}

// appendField adds a valid, non-connection-specific field.
func appendField(out []hpack.HeaderField, k, v string) []hpack.HeaderField {
	if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
		return out
	}
	switch lk := strings.ToLower(k); lk {
	case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade", "trailer":
		return out
	default:
		return append(out, hpack.HeaderField{Name: lk, Value: v})
	}
}

// The ResponseWriter.

func (s *stream) Header() http.Header { return s.hdr }

func (s *stream) WriteHeader(code int) {
	if s.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 {
		if code != http.StatusSwitchingProtocols && !s.sentHeader {
			// Informational: its own header block, the final one follows.
			fields, _, _ := s.headerFields(code)
			_ = s.c.writeHeaders(s, fields, false)
		}
		return
	}
	s.wroteHeader, s.status = true, code
}

// bodyAllowed reports whether the status may carry a body.
func (s *stream) bodyAllowed() bool {
	return s.status != http.StatusNoContent && s.status != http.StatusNotModified && s.status >= 200
}

// sendHeader sends the final header block; sniff is the start of the
// body for a missing Content-Type.
func (s *stream) sendHeader(end bool, sniff []byte) error {
	s.sentHeader = true
	fields, hasDate, hasType := s.headerFields(s.status)
	if !hasDate {
		fields = append(fields, hpack.HeaderField{Name: "date", Value: time.Now().UTC().Format(http.TimeFormat)})
	}
	if !hasType && len(sniff) > 0 && s.bodyAllowed() && s.hdr.Get("X-Content-Type-Options") != "nosniff" {
		fields = append(fields, hpack.HeaderField{Name: "content-type", Value: http.DetectContentType(sniff)})
	}
	return s.c.writeHeaders(s, fields, end)
}

// headerFields is a header block of status and the handler's header
// (trailers left out), and whether it has Date and Content-Type.
func (s *stream) headerFields(status int) (fields []hpack.HeaderField, hasDate, hasType bool) {
	fields = []hpack.HeaderField{{Name: ":status", Value: strconv.Itoa(status)}}
	for k, vs := range s.hdr {
		if k == "Trailer" || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		switch k {
		case "Date":
			hasDate = true
		case "Content-Type":
			hasType = true
		}
		for _, v := range vs {
			fields = appendField(fields, k, v)
		}
	}
	return fields, hasDate, hasType
}

func (s *stream) Write(p []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	if !s.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if !s.sentHeader {
		if err := s.sendHeader(false, p); err != nil {
			return 0, err
		}
	}
	if s.head || len(p) == 0 {
		return len(p), nil
	}
	return h2data.SendCopy(p, s.send)
}

// FlushError sends the header if it has not gone yet; body writes are
// never held back.
func (s *stream) FlushError() error {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	if !s.sentHeader {
		return s.sendHeader(false, nil)
	}
	return s.failure()
}

func (s *stream) Flush() { _ = s.FlushError() }

// EnableFullDuplex: reading the body while writing the response always
// works here.
func (s *stream) EnableFullDuplex() error { return nil }

// SetReadDeadline and SetWriteDeadline reset the stream when t passes
// (the zero time: never). Each has its own timer: lifting one leaves the
// other.
func (s *stream) SetReadDeadline(t time.Time) error {
	s.setDeadline(&s.readDL, t)
	return nil
}

func (s *stream) SetWriteDeadline(t time.Time) error {
	s.setDeadline(&s.writeDL, t)
	return nil
}

func (s *stream) setDeadline(tm **time.Timer, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *tm != nil {
		(*tm).Stop()
		*tm = nil
	}
	if t.IsZero() {
		return
	}
	*tm = time.AfterFunc(time.Until(t), func() {
		s.reset(http2.ErrCodeCancel, os.ErrDeadlineExceeded)
	})
}

func (s *stream) stopDeadlines() {
	s.setDeadline(&s.readDL, time.Time{})
	s.setDeadline(&s.writeDL, time.Time{})
}

// Flow control and the data path.

// send sends frame[9:] as DATA frames, as the windows allow; the header
// of each goes in place in front of its payload.
func (s *stream) send(frame []byte) error {
	return h2data.SendFrames(frame, s.take, func(f []byte) error { return s.c.writeData(s, f, false) })
}

// take waits for window and books up to n bytes of it, one frame's worth
// at most.
func (s *stream) take(n int) (int, error) { return s.windows().Take(n, s.sendErr) }

// windows are s's send windows and the connection's, guarded by c.mu.
func (s *stream) windows() h2data.SendWindows {
	c := s.c
	return h2data.SendWindows{
		Cond: c.cond, Stream: &s.sendWin, Conn: &c.sendWin, Frame: &c.peerFrame,
		Dead: &s.dead, ConnErr: &c.err,
	}
}

// sendErr is why nothing more can be sent: the stream's failure, or
// errStreamDone for one that ended without one.
func (s *stream) sendErr() error {
	if err := s.failure(); err != nil {
		return err
	}
	return errStreamDone
}

// onData takes a DATA payload from the reader: written straight to the
// upstream when an upload waits with nothing pending and the socket takes
// it at once, else kept (copied) for the upload or the body's Read.
func (s *stream) onData(data []byte, size int64, endStream bool) error {
	c := s.c
	c.mu.Lock()
	if s.remoteEnd || !s.recv.Receive(size) {
		code := http2.ErrCodeStreamClosed
		if !s.remoteEnd {
			code = http2.ErrCodeFlowControl
		}
		c.mu.Unlock()
		c.credit(nil, size)
		s.reset(code, fmt.Errorf("h2srv: bad DATA (%v)", code))
		return nil
	}
	s.received += int64(len(data))
	// A body longer or shorter than its Content-Length is malformed
	// (RFC 9113 section 8.1.1): a handler that proxies the request must
	// not pass it on as it came.
	if s.declared >= 0 && (s.received > s.declared || endStream && s.received != s.declared) {
		c.mu.Unlock()
		c.credit(nil, size)
		s.reset(http2.ErrCodeProtocol, errors.New("h2srv: body length differs from Content-Length"))
		return nil
	}
	c.mu.Unlock()

	s.mu.Lock()
	delivered := 0
	if s.err != nil || s.werr != nil || s.bodyClosed {
		delivered = len(data) // dropped: nobody reads it any more
	} else {
		if s.parked && s.pending.Len() == 0 && s.raw != nil && len(data) > 0 {
			n, err := sockio.WriteNow(s.raw, data)
			if err != nil {
				s.werr = err
			}
			delivered = n
			if n > 0 {
				s.upN += int64(n)
				if s.progress != nil {
					s.progress(n)
				}
			}
		}
		if s.werr == nil {
			s.pending.Keep(data[delivered:])
		} else {
			delivered = len(data)
		}
	}
	// Only kept data or a failed write is news to a waiting reader: a
	// frame written straight through would wake the upload for nothing
	// (a goroutine and a thread woken for every such frame).
	if delivered < len(data) || s.werr != nil {
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	c.credit(s, int64(delivered)+size-int64(len(data)))
	if endStream {
		s.remoteEnded()
	}
	return nil
}

// remoteEnded is END_STREAM from the client.
func (s *stream) remoteEnded() {
	c := s.c
	c.mu.Lock()
	s.remoteEnd = true
	closing := s.localEnd && c.forgetLocked(s)
	c.mu.Unlock()
	s.mu.Lock()
	s.end = true
	s.cond.Broadcast()
	s.mu.Unlock()
	if closing {
		c.closeAfterWrites()
	}
}

// reset sends RST_STREAM with code (once, and not on a stream that
// already ended both ways) and fails the stream with err. The stream
// stops counting as open before the RST_STREAM goes out.
func (s *stream) reset(code http2.ErrCode, err error) {
	c := s.c
	c.wmu.Lock()
	send := !s.rstSent
	s.rstSent, s.wclosed = true, true
	c.mu.Lock()
	send = send && c.err == nil && !(s.localEnd && s.remoteEnd)
	if send {
		c.noteReset(s)
	}
	closing := c.forgetLocked(s)
	c.mu.Unlock()
	if send && c.wfr.WriteRSTStream(s.id, code) == nil {
		_ = c.flushLocked()
	}
	c.wbuf.Reset()
	if closing {
		c.nc.Close()
	}
	c.wmu.Unlock()
	s.lost(err)
}

// resetByClient is RST_STREAM from the client: nothing more goes out.
func (s *stream) resetByClient(err error) {
	c := s.c
	c.wmu.Lock()
	s.rstSent, s.wclosed = true, true
	c.wmu.Unlock()
	s.lost(err)
	c.remove(s)
}

// lost fails the stream with err: every wait on it ends, the handler's
// context is cancelled, what was held is freed (and returned to the
// connection's window).
func (s *stream) lost(err error) {
	c := s.c
	c.mu.Lock()
	s.dead, s.remoteEnd, s.localEnd = true, true, true
	c.cond.Broadcast()
	c.mu.Unlock()
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	dropped := s.pending.Drop()
	s.cond.Broadcast()
	s.mu.Unlock()
	c.credit(nil, dropped)
	s.cancel()
}

// failure is why the stream failed (nil if it has not).
func (s *stream) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// body is the request body: what the client sends on the stream.
type body stream

func (b *body) Read(p []byte) (int, error) {
	s := (*stream)(b)
	s.mu.Lock()
	for s.pending.Len() == 0 && !s.end && s.err == nil && !s.bodyClosed {
		s.cond.Wait()
	}
	if s.bodyClosed {
		s.mu.Unlock()
		return 0, errBodyClosed
	}
	if s.pending.Len() == 0 {
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	n := s.pending.Read(p)
	s.mu.Unlock()
	s.c.credit(s, int64(n))
	return n, nil
}

// Close stops the body: what is held and what still comes is dropped
// (and returned to the client's windows).
func (b *body) Close() error {
	s := (*stream)(b)
	s.mu.Lock()
	s.bodyClosed = true
	dropped := s.pending.Drop()
	s.cond.Broadcast()
	s.mu.Unlock()
	s.c.credit(s, dropped)
	return nil
}

var errBodyClosed = errors.New("h2srv: request body closed")

// Deliver writes to up what the client already sent (the early data
// behind a CONNECT's HEADERS) as far as up takes it without waiting, so
// it is on its way before UploadTo's goroutine runs. When all of it went,
// it also opens the frame reader's direct path to up: DATA parsed from
// here on (often the early data itself, in the same TLS record as the
// HEADERS but read after the handler started) is written to up at once,
// not kept until UploadTo's goroutine is scheduled.
//
// The early data usually shares the HEADERS' TLS record, yet this
// goroutine, which read the HEADERS, handed the reading on before parsing
// it (see frames). When nothing is pending yet, Deliver first yields once
// so the reader, runnable on this P, parses what it already holds: the
// early data then goes to up here, before the handler's 200. Otherwise,
// on one P, the 200 went out first and the early data only after it, and
// the upstream's answer, the first byte the application waits for, was
// that much later.
func (s *stream) Deliver(up net.Conn, progress func(int)) {
	tc, ok := up.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.pending.Len() == 0 && !s.end && s.err == nil {
		s.mu.Unlock()
		runtime.Gosched()
		s.mu.Lock()
	}
	var sent int64
	if s.werr == nil && s.err == nil && !s.bodyClosed {
		// What up does not take now stays for UploadTo, which waits for it.
		var err error
		sent, err = s.pending.WriteSome(func(p []byte) (int, error) { return sockio.WriteNow(raw, p) })
		if err != nil {
			s.werr = err // UploadTo reports it
		}
		if s.werr == nil && s.pending.Len() == 0 {
			// No upload runs yet and nothing waits: as UploadTo parked.
			s.raw, s.progress, s.parked = raw, progress, true
		}
	}
	s.upN += sent
	s.mu.Unlock()
	if sent > 0 {
		if progress != nil {
			progress(int(sent))
		}
		s.c.credit(s, sent)
	}
}

// UploadTo writes what the client sends on the stream to up until the
// client ends its side (nil), the stream fails, the body is closed, or up
// fails (the error). DATA is written to up straight from the frame
// reader whenever up takes it at once.
func (s *stream) UploadTo(up net.Conn, progress func(int)) (int64, error) {
	var raw syscall.RawConn
	if tc, ok := up.(*net.TCPConn); ok {
		raw, _ = tc.SyscallConn()
	}
	s.mu.Lock()
	s.raw, s.progress = raw, progress
	defer func() {
		s.parked, s.raw, s.progress = false, nil, nil
		s.mu.Unlock()
	}()
	for {
		for s.pending.Len() == 0 && !s.end && s.err == nil && s.werr == nil && !s.bodyClosed {
			s.parked = true
			s.cond.Wait()
		}
		s.parked = false
		switch {
		case s.werr != nil:
			// credit may wait for wmu, whose holder may wait for s.mu
			// (a failed write fails every stream).
			dropped := s.pending.Drop()
			s.mu.Unlock()
			s.c.credit(nil, dropped)
			s.mu.Lock()
			return s.upN, s.werr
		case s.bodyClosed:
			return s.upN, errBodyClosed
		case s.pending.Len() == 0 && s.err != nil:
			return s.upN, s.err
		case s.pending.Len() == 0: // the client ended its side
			return s.upN, nil
		}
		chunks := s.pending.Take()
		s.mu.Unlock()
		werr := chunks.Drain(up.Write, func(size, took int, tried bool) {
			if took > 0 {
				s.mu.Lock()
				s.upN += int64(took)
				s.mu.Unlock()
				if progress != nil {
					progress(took)
				}
			}
			if tried {
				s.c.credit(s, int64(size))
			} else {
				s.c.credit(nil, int64(size))
			}
		})
		s.mu.Lock()
		if werr != nil && s.werr == nil {
			s.werr = werr
		}
	}
}

// DownloadFrom sends the response header (200 unless written) and then
// what up sends, as DATA read straight into a frame's buffer, until up
// ends (END_STREAM, nil) or fails (the error). No buffer is held while up
// is idle.
func (s *stream) DownloadFrom(up net.Conn, progress func(int)) (int64, error) {
	if err := s.FlushError(); err != nil {
		return 0, err
	}
	var raw syscall.RawConn
	if tc, ok := up.(*net.TCPConn); ok {
		raw, _ = tc.SyscallConn()
	}
	var bp *[]byte
	defer func() {
		if bp != nil {
			h2data.Bufs{}.Put(bp)
		}
	}()
	var total int64
	for {
		k, err := s.windows().Window(s.sendErr)
		if err != nil {
			return total, err
		}
		n, rerr := h2data.ReadData(raw, up.Read, &bp, k)
		if n > 0 {
			total += int64(n)
			if progress != nil {
				progress(n)
			}
			if err := s.send((*bp)[:h2data.FrameHeader+n]); err != nil {
				return total, err
			}
		}
		h2data.ReleaseData(raw, &bp)
		switch {
		case rerr == io.EOF:
			var hdr [h2data.FrameHeader]byte
			return total, s.c.writeData(s, hdr[:], true)
		case rerr != nil:
			return total, rerr
		}
	}
}
