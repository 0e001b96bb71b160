package tunnel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"golang.org/x/sys/unix"

	"github.com/porthole-dev/porthole/internal/testutil/tcppair"
)

// The h2Client against a scripted HTTP/2 server over loopback TCP: the
// server side is x/net's Framer driven by each test, so it can send what
// no real server would (hostile frames), and every frame the client sends
// is seen.

const h2TestWait = 2 * time.Minute // generous: the machine may be loaded

// h2Peer is the scripted server side of one connection.
type h2Peer struct {
	t      *testing.T
	conn   net.Conn
	fr     *http2.Framer
	wmu    sync.Mutex
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	frames chan any // what the client sent (http2 frames; DATA as *dataCopy), closed at EOF
}

// startH2Pair connects an h2Client to a scripted server that announces
// settings. The server has read the client's preface.
func startH2Pair(t *testing.T, settings ...http2.Setting) (*h2Client, *h2Peer) {
	t.Helper()
	return startH2PairIdle(t, h2ReadIdle, h2PingTimeout, settings...)
}

// startH2PairIdle is startH2Pair with the client's liveness durations.
func startH2PairIdle(t *testing.T, readIdle, pingTimeout time.Duration, settings ...http2.Setting) (*h2Client, *h2Peer) {
	t.Helper()
	return startH2PairWrap(t, readIdle, pingTimeout, nil, settings...)
}

// startH2PairWrap is startH2PairIdle with the client's connection
// wrapped (nil: not), to see its writes.
func startH2PairWrap(t *testing.T, readIdle, pingTimeout time.Duration, wrap func(net.Conn) net.Conn, settings ...http2.Setting) (*h2Client, *h2Peer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if sc == nil {
		t.Fatal("accept failed")
	}
	_ = sc.SetDeadline(time.Now().Add(h2TestWait))
	if wrap != nil {
		cc = wrap(cc)
	}
	client, err := newH2ClientIdle(cc, "test-proxy", readIdle, pingTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); sc.Close() })
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(sc, preface); err != nil || string(preface) != http2.ClientPreface {
		t.Fatalf("preface: %q, %v", preface, err)
	}
	p := &h2Peer{t: t, conn: sc, fr: http2.NewFramer(sc, sc), frames: make(chan any, 1024)}
	table := uint32(4096)
	for _, st := range settings {
		if st.ID == http2.SettingHeaderTableSize {
			table = st.Val // the decoder holds to what we announce
		}
	}
	p.fr.ReadMetaHeaders = hpack.NewDecoder(table, nil)
	p.fr.SetMaxReadFrameSize(1 << 20)
	p.henc = hpack.NewEncoder(&p.hbuf)
	p.write(func(fr *http2.Framer) error { return fr.WriteSettings(settings...) })
	go p.readLoop()
	return client, p
}

func (p *h2Peer) write(f func(fr *http2.Framer) error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := f(p.fr); err != nil {
		p.t.Logf("server write: %v", err) // the client may have closed
	}
}

func (p *h2Peer) readLoop() {
	defer close(p.frames)
	for {
		f, err := p.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.DataFrame:
			p.frames <- &dataCopy{hdr: f.Header(), data: bytes.Clone(f.Data()), end: f.StreamEnded()}
			continue
		}
		p.frames <- f
	}
}

// dataCopy is a DATA frame the server read (the Framer reuses buffers).
type dataCopy struct {
	hdr  http2.FrameHeader
	data []byte
	end  bool
}

func (d *dataCopy) Header() http2.FrameHeader { return d.hdr }

// expect reads client frames until match says done, failing after a
// deadline or at EOF.
func (p *h2Peer) expect(what string, match func(any) bool) {
	p.t.Helper()
	tm := time.NewTimer(h2TestWait)
	defer tm.Stop()
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				p.t.Fatalf("connection ended before %s", what)
			}
			if match(f) {
				return
			}
		case <-tm.C:
			p.t.Fatalf("no %s within %s", what, h2TestWait)
		}
	}
}

// expectEnd reads client frames until EOF (the client closed), returning
// the GOAWAY it sent first, if any.
func (p *h2Peer) expectEnd() *http2.GoAwayFrame {
	p.t.Helper()
	var ga *http2.GoAwayFrame
	tm := time.NewTimer(h2TestWait)
	defer tm.Stop()
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				return ga
			}
			if g, isGA := f.(*http2.GoAwayFrame); isGA {
				ga = g
			}
		case <-tm.C:
			p.t.Fatalf("the client did not close the connection within %s", h2TestWait)
		}
	}
}

func (p *h2Peer) headers(id uint32, end bool, fields ...string) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.hbuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = p.henc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.hbuf.Bytes(), EndHeaders: true, EndStream: end}); err != nil {
		p.t.Logf("server write: %v", err)
	}
}

// startOpen opens a stream with body (nil: Write mode) and reads its
// HEADERS; wait returns the stream once the test has answered.
func startOpen(t *testing.T, c *h2Client, p *h2Peer, body *reqBody) (id uint32, wait func() *h2Stream) {
	t.Helper()
	if !c.reserve() {
		t.Fatal("no stream slot")
	}
	type res struct {
		s   *h2Stream
		err error
	}
	done := make(chan res, 1)
	go func() {
		s, err := c.open(context.Background(), []hpack.HeaderField{{Name: ":method", Value: "CONNECT"}, {Name: ":authority", Value: "echo.internal:7000"}}, body)
		done <- res{s, err}
	}()
	p.expect("HEADERS", func(f any) bool {
		h, ok := f.(*http2.MetaHeadersFrame)
		if ok {
			id = h.StreamID
			if h.PseudoValue("method") != "CONNECT" || h.PseudoValue("authority") != "echo.internal:7000" {
				t.Errorf("request pseudo-headers: %v", h.Fields)
			}
		}
		return ok
	})
	return id, func() *h2Stream {
		t.Helper()
		r := <-done
		if r.err != nil {
			t.Fatalf("open: %v", r.err)
		}
		return r.s
	}
}

// openStream opens a Write-mode stream (no body) and answers it with
// status; it returns the stream (nil for a refusal) and its id.
func openStream(t *testing.T, c *h2Client, p *h2Peer, status int) (*h2Stream, uint32) {
	t.Helper()
	id, wait := startOpen(t, c, p, nil)
	p.headers(id, false, ":status", strconv.Itoa(status))
	return wait(), id
}

// waitErr waits for a stream to fail and returns the error.
func waitStreamErr(t *testing.T, s *h2Stream) error {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := s.Read(buf); err != nil {
				got <- err
				return
			}
		}
	}()
	select {
	case err := <-got:
		return err
	case <-time.After(h2TestWait):
		t.Fatal("the stream did not end")
		return nil
	}
}

func TestH2SendFlowControl(t *testing.T) {
	c, p := startH2Pair(t, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
	s, id := openStream(t, c, p, 200)
	msg := bytes.Repeat([]byte("0123456789abcdef"), 8) // 128 bytes
	wrote := make(chan error, 1)
	go func() { _, err := s.Write(msg); wrote <- err }()
	var got []byte
	for len(got) < len(msg) {
		p.expect("DATA", func(f any) bool {
			d, ok := f.(*dataCopy)
			if !ok {
				return false
			}
			if len(d.data) > 10 {
				t.Fatalf("DATA of %d bytes past a 10-byte window", len(d.data))
			}
			got = append(got, d.data...)
			return true
		})
		if len(got)%10 == 0 && len(got) < len(msg) {
			select {
			case err := <-wrote:
				t.Fatalf("Write returned (%v) with the window closed", err)
			default:
			}
			p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(id, 10) })
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("server got %q", got)
	}
	// The connection window (65535) bounds all streams: a 2nd stream's
	// large write stops at it until a connection WINDOW_UPDATE.
	p.write(func(fr *http2.Framer) error {
		return fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	})
	big := make([]byte, 100_000)
	go func() { _, err := s.Write(big); wrote <- err }()
	total := len(got)
	for total < 65535 {
		p.expect("DATA", func(f any) bool {
			if d, ok := f.(*dataCopy); ok {
				total += len(d.data)
				return true
			}
			return false
		})
	}
	if total != 65535 {
		t.Fatalf("sent %d bytes on a 65535-byte connection window", total)
	}
	p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<20) })
	for total < 65535+len(big)-(65535-len(msg)) {
		p.expect("DATA", func(f any) bool {
			if d, ok := f.(*dataCopy); ok {
				total += len(d.data)
				return true
			}
			return false
		})
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

func TestH2ReceiveWindowAndHalfClose(t *testing.T) {
	c, p := startH2Pair(t)
	s, id := openStream(t, c, p, 200)
	// 6 MiB down: more than the 4 MiB stream window, so the server must
	// get WINDOW_UPDATEs as the client's reader takes the data.
	const size = 6 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	sendWin := int64(h2StreamWindow)
	var updates sync.WaitGroup
	updates.Add(1)
	credit := make(chan int64, 1024)
	go func() {
		defer updates.Done()
		sent := 0
		for sent < size {
			for sendWin <= 0 {
				sendWin += <-credit
			}
			n := min(16<<10, size-sent, int(sendWin))
			p.write(func(fr *http2.Framer) error { return fr.WriteData(id, sent+n == size, payload[sent:sent+n]) })
			sent += n
			sendWin -= int64(n)
		}
	}()
	go func() {
		for f := range p.frames {
			if w, ok := f.(*http2.WindowUpdateFrame); ok && w.StreamID == id {
				credit <- int64(w.Increment)
			}
		}
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	updates.Wait()
	if !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes, not the %d sent", len(got), size)
	}
	// Half-closed by the proxy: the client still sends, then ends its side.
	if _, err := s.Write([]byte("after")); err != nil {
		t.Fatalf("write after the proxy's END_STREAM: %v", err)
	}
	if err := s.sendEnd(); err != nil {
		t.Fatal(err)
	}
	if !s.finished() {
		t.Fatal("stream not finished after END_STREAM both ways")
	}
}

func TestH2ResetAndGoAway(t *testing.T) {
	c, p := startH2Pair(t)
	s1, id1 := openStream(t, c, p, 200)
	s2, id2 := openStream(t, c, p, 200)
	p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id1, http2.ErrCodeInternal) })
	if err := waitStreamErr(t, s1); !errors.Is(err, ErrProxyEnded) {
		t.Fatalf("reset stream: %v, want ErrProxyEnded", err)
	}
	s3, id3 := openStream(t, c, p, 200)
	// GOAWAY naming s2: s3 (newer) fails, s2 carries on, no new streams.
	p.write(func(fr *http2.Framer) error { return fr.WriteGoAway(id2, http2.ErrCodeNo, nil) })
	if err := waitStreamErr(t, s3); !errors.Is(err, errStreamLost) {
		t.Fatalf("stream past GOAWAY: %v", err)
	}
	waitUntil(t, "GOAWAY seen", func() bool { return !c.usable() })
	if c.reserve() {
		t.Fatal("a going-away connection took a new stream")
	}
	p.write(func(fr *http2.Framer) error { return fr.WriteData(id2, true, []byte("last words")) })
	got, err := io.ReadAll(s2)
	if err != nil || string(got) != "last words" {
		t.Fatalf("stream before GOAWAY: %q, %v", got, err)
	}
	if id3 <= id2 {
		t.Fatalf("stream ids not increasing: %d after %d", id3, id2)
	}
	// Once its last stream ends, the client closes the connection.
	if err := s2.sendEnd(); err != nil {
		t.Fatal(err)
	}
	p.expectEnd()
}

func TestH2HostileFrames(t *testing.T) {
	raw := func(typ http2.FrameType, flags http2.Flags, id uint32, payload []byte) func(*h2Peer, uint32) {
		return func(p *h2Peer, _ uint32) {
			p.write(func(fr *http2.Framer) error { return fr.WriteRawFrame(typ, flags, id, payload) })
		}
	}
	onStream := func(f func(p *h2Peer, id uint32)) func(*h2Peer, uint32) { return f }
	for _, tc := range []struct {
		name string
		send func(p *h2Peer, id uint32)
		// conn: the whole connection ends (GOAWAY code); else the stream
		// is reset with rst.
		conn, rst http2.ErrCode
		connEnds  bool
	}{
		{name: "oversize frame", send: func(p *h2Peer, id uint32) {
			p.write(func(fr *http2.Framer) error {
				return fr.WriteRawFrame(http2.FrameData, 0, id, make([]byte, h2MaxFrameRead+1))
			})
		}, connEnds: true, conn: http2.ErrCodeFrameSize},
		{name: "DATA on stream 0", send: raw(http2.FrameData, 0, 0, []byte("x")), connEnds: true, conn: http2.ErrCodeProtocol},
		{name: "DATA on an idle stream", send: raw(http2.FrameData, 0, 99, []byte("x")), connEnds: true, conn: http2.ErrCodeProtocol},
		{name: "HEADERS on an even stream", send: func(p *h2Peer, id uint32) { p.headers(2, false, ":status", "200") }, connEnds: true, conn: http2.ErrCodeProtocol},
		{name: "PUSH_PROMISE", send: raw(http2.FramePushPromise, http2.FlagPushPromiseEndHeaders, 1, []byte{0, 0, 0, 2}), connEnds: true, conn: http2.ErrCodeProtocol},
		{name: "connection window overflow", send: func(p *h2Peer, id uint32) {
			p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1) })
		}, connEnds: true, conn: http2.ErrCodeFlowControl},
		{name: "initial window too large", send: raw(http2.FrameSettings, 0, 0, []byte{0, 4, 0x80, 0, 0, 0}), connEnds: true, conn: http2.ErrCodeFlowControl},
		{name: "frame size setting too small", send: raw(http2.FrameSettings, 0, 0, []byte{0, 5, 0, 0, 0, 1}), connEnds: true, conn: http2.ErrCodeProtocol},
		{name: "garbage", send: func(p *h2Peer, id uint32) { _, _ = p.conn.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }, connEnds: true},
		{name: "stream window overflow", send: onStream(func(p *h2Peer, id uint32) {
			p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(id, 1<<31-1) })
		}), rst: http2.ErrCodeFlowControl},
		{name: "DATA past the stream window", send: onStream(func(p *h2Peer, id uint32) {
			// 21 frames of 200 KiB, nobody reading: past the 4 MiB stream
			// window (the connection's 32 MiB is not reached).
			for range 21 {
				p.write(func(fr *http2.Framer) error { return fr.WriteRawFrame(http2.FrameData, 0, id, make([]byte, 200<<10)) })
			}
		}), rst: http2.ErrCodeFlowControl},
		{name: "DATA after END_STREAM", send: onStream(func(p *h2Peer, id uint32) {
			p.write(func(fr *http2.Framer) error { return fr.WriteData(id, true, []byte("end")) })
			p.write(func(fr *http2.Framer) error { return fr.WriteData(id, false, []byte("more")) })
		}), rst: http2.ErrCodeStreamClosed},
		{name: "second HEADERS without END_STREAM", send: onStream(func(p *h2Peer, id uint32) { p.headers(id, false, ":status", "200") }), rst: http2.ErrCodeProtocol},
		{name: "bad header name", send: onStream(func(p *h2Peer, id uint32) { p.headers(id, true, "Bad Name", "x") }), rst: http2.ErrCodeProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := startH2Pair(t)
			s, id := openStream(t, c, p, 200)
			tc.send(p, id)
			if tc.connEnds {
				ga := p.expectEnd()
				if tc.conn != 0 && (ga == nil || ga.ErrCode != tc.conn) {
					t.Fatalf("GOAWAY %v, want code %v", ga, tc.conn)
				}
				if err := waitStreamErr(t, s); !errors.Is(err, errStreamLost) {
					t.Fatalf("stream error %v, want the connection's loss", err)
				}
				if c.usable() {
					t.Fatal("connection still usable")
				}
				return
			}
			p.expect("RST_STREAM "+tc.rst.String(), func(f any) bool {
				r, ok := f.(*http2.RSTStreamFrame)
				return ok && r.StreamID == id && r.ErrCode == tc.rst
			})
			waitUntil(t, "the stream's failure", func() bool { return s.failure() != nil })
			if err := s.failure(); !errors.Is(err, ErrProxyEnded) {
				t.Fatalf("stream error %v, want ErrProxyEnded", err)
			}
			// The connection carries on for other streams.
			s2, id2 := openStream(t, c, p, 200)
			p.write(func(fr *http2.Framer) error { return fr.WriteData(id2, true, []byte("ok")) })
			if got, err := io.ReadAll(s2); err != nil || string(got) != "ok" {
				t.Fatalf("next stream: %q, %v", got, err)
			}
		})
	}
}

func TestH2PingAndSettingsAck(t *testing.T) {
	c, p := startH2Pair(t, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 1})
	p.expect("SETTINGS ack", func(f any) bool {
		s, ok := f.(*http2.SettingsFrame)
		return ok && s.IsAck()
	})
	p.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{1, 2, 3}) })
	p.expect("PING ack", func(f any) bool {
		pf, ok := f.(*http2.PingFrame)
		return ok && pf.IsAck() && pf.Data == [8]byte{1, 2, 3}
	})
	waitUntil(t, "MAX_CONCURRENT_STREAMS 1 applied", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.maxStreams == 1
	})
	if !c.reserve() {
		t.Fatal("first slot refused")
	}
	if c.reserve() {
		t.Fatal("a second stream past MAX_CONCURRENT_STREAMS 1")
	}
	c.unreserve()
}

// A proxy with a smaller HPACK table (here none at all) gets header
// blocks its decoder can read: the encoder follows its setting.
func TestH2PeerHeaderTableSize(t *testing.T) {
	c, p := startH2Pair(t, http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0})
	p.expect("SETTINGS ack", func(f any) bool {
		s, ok := f.(*http2.SettingsFrame)
		return ok && s.IsAck()
	})
	for range 3 {
		s, id := openStream(t, c, p, 200)
		p.write(func(fr *http2.Framer) error { return fr.WriteData(id, true, []byte("ok")) })
		if got, err := io.ReadAll(s); err != nil || string(got) != "ok" {
			t.Fatalf("stream %d: %q, %v", id, got, err)
		}
	}
}

// A proxy that goes silent is found out: the client pings after the idle
// time, and a PING left unanswered ends the connection and its streams
// (they fail instead of waiting forever); one that answers stays.
func TestH2SilentProxyIsDropped(t *testing.T) {
	// The ping timeout is generous: a loaded machine may delay our answers.
	const idle, timeout = 200 * time.Millisecond, 10 * time.Second
	c, p := startH2PairIdle(t, idle, timeout)
	s, _ := openStream(t, c, p, 200)
	// Answered pings keep it alive.
	for range 2 {
		p.expect("PING", func(f any) bool {
			pf, ok := f.(*http2.PingFrame)
			if ok && !pf.IsAck() {
				p.write(func(fr *http2.Framer) error { return fr.WritePing(true, pf.Data) })
			}
			return ok && !pf.IsAck()
		})
	}
	if !c.usable() {
		t.Fatalf("connection dropped although its pings were answered: %v", c.failed())
	}
	// Silence: the next PING goes unanswered.
	p.expect("PING", func(f any) bool {
		pf, ok := f.(*http2.PingFrame)
		return ok && !pf.IsAck()
	})
	if err := waitStreamErr(t, s); !errors.Is(err, errStreamLost) {
		t.Fatalf("stream on a silent proxy: %v", err)
	}
	p.expectEnd()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(h2TestWait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, h2TestWait)
		}
		<-tick.C
	}
}

// FuzzH2ClientFrames feeds arbitrary bytes as the proxy's side of a
// connection with one stream open: the client must neither panic nor
// hang, and must end when the input does.
func FuzzH2ClientFrames(f *testing.F) {
	var seed bytes.Buffer
	fr := http2.NewFramer(&seed, nil)
	_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
	var hb bytes.Buffer
	_ = hpack.NewEncoder(&hb).WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true})
	_ = fr.WriteData(1, false, []byte("hello"))
	_ = fr.WriteWindowUpdate(1, 100)
	_ = fr.WritePing(false, [8]byte{})
	_ = fr.WriteRSTStream(1, http2.ErrCodeCancel)
	_ = fr.WriteGoAway(1, http2.ErrCodeNo, []byte("bye"))
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		cs, ss := net.Pipe()
		defer ss.Close()
		go func() { _, _ = io.Copy(io.Discard, ss) }()
		c, err := newH2Client(cs, "fuzz")
		if err != nil {
			return
		}
		defer c.Close()
		if c.reserve() {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), h2TestWait)
				defer cancel()
				if s, err := c.open(ctx, []hpack.HeaderField{{Name: ":method", Value: "CONNECT"}, {Name: ":authority", Value: "a:1"}}, nil); err == nil {
					_, _ = s.Write([]byte("x"))
					_, _ = io.Copy(io.Discard, s)
				}
			}()
		}
		_, _ = ss.Write(in)
		ss.Close()
		deadline := time.Now().Add(h2TestWait)
		for c.failed() == nil {
			if time.Now().After(deadline) {
				t.Fatal("client still running after its input ended")
			}
			time.Sleep(time.Millisecond) // polling the client's end, bounded
		}
	})
}

// Data a failed stream never delivered still counts against the
// connection's window: the client gives it back (WINDOW_UPDATE on stream
// 0), or after a few such streams the proxy could send nothing more on
// the connection.
func TestH2DroppedDataReturnsConnectionWindow(t *testing.T) {
	c, p := startH2Pair(t)
	chunk := make([]byte, 16<<10)
	const perStream = 3 << 20 // under the stream window: all of it is held
	for range 3 {             // 9 MiB dropped: past a quarter of the connection window
		s, id := openStream(t, c, p, 200)
		for sent := 0; sent < perStream; sent += len(chunk) {
			p.write(func(fr *http2.Framer) error { return fr.WriteData(id, false, chunk) })
		}
		p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeCancel) })
		if err := waitStreamErr(t, s); !errors.Is(err, ErrProxyEnded) {
			t.Fatalf("reset stream: %v", err)
		}
	}
	p.expect("a WINDOW_UPDATE giving the dropped data back to the connection", func(f any) bool {
		w, ok := f.(*http2.WindowUpdateFrame)
		return ok && w.StreamID == 0 && w.Increment >= h2ConnWindow/4
	})
}

// loopbackPair is a connected pair of loopback TCP connections: app (the
// local application's end) and local (the tunnel's accepted end).
func loopbackPair(t *testing.T) (app, local *net.TCPConn) {
	t.Helper()
	app, local = tcppair.New(t)
	_ = app.SetDeadline(time.Now().Add(h2TestWait))
	return app, local
}

// openEarly opens a stream whose body reads local early (as connectH2
// does) and answers it with status and then, in the same write, DATA.
func openEarly(t *testing.T, c *h2Client, p *h2Peer, local *net.TCPConn, status int, data string, end bool) *h2Stream {
	t.Helper()
	id, wait := startOpen(t, c, p, newReqBody(newEarly(local)))
	p.wmu.Lock()
	p.hbuf.Reset()
	_ = p.henc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(status)})
	var wire bytes.Buffer // answer and data in one write: one read for the client
	fr := http2.NewFramer(&wire, nil)
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.hbuf.Bytes(), EndHeaders: true})
	_ = fr.WriteData(id, end, []byte(data))
	_, err := p.conn.Write(wire.Bytes())
	p.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return wait()
}

// What follows a 200 reaches the local connection from the read loop
// before copyDown runs (the answer and the first bytes often come in one
// read), and copyDown counts it.
func TestH2DataAfterAnswerGoesStraightToLocal(t *testing.T) {
	c, p := startH2Pair(t)
	app, local := loopbackPair(t)
	s := openEarly(t, c, p, local, 200, "hello", true)
	got := make([]byte, 5)
	if _, err := io.ReadFull(app, got); err != nil || string(got) != "hello" {
		t.Fatalf("the application read %q, %v before copyDown ran", got, err)
	}
	var progressed int
	res := s.copyDown(local, func(n int) { progressed += n })
	if res.Err() != nil || res.N != 5 || progressed != 5 {
		t.Fatalf("copyDown: N %d, progress %d, err %v; want 5, 5, nil", res.N, progressed, res.Err())
	}
}

// A refusal's body is the stream's to read (the error message), never
// the local application's.
func TestH2RefusalBodyNeverReachesLocal(t *testing.T) {
	c, p := startH2Pair(t)
	app, local := loopbackPair(t)
	s := openEarly(t, c, p, local, 403, "denied by policy", true)
	msg, err := io.ReadAll(s)
	if err != nil || string(msg) != "denied by policy" {
		t.Fatalf("refusal body %q, %v", msg, err)
	}
	_ = local.CloseWrite()
	if leaked, err := io.ReadAll(app); err != nil || len(leaked) > 0 {
		t.Fatalf("the application read %q (%v) of a refusal", leaked, err)
	}
}

// writeLog records each Write on a connection.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, bytes.Clone(p))
	w.mu.Unlock()
	return w.Conn.Write(p)
}

// What the local connection holds when the stream opens goes out in the
// same write as the HEADERS (one system call, one read for the proxy),
// and is kept for a replay should the proxy refuse.
func TestH2EarlyDataInTheHeadersWrite(t *testing.T) {
	log := &writeLog{}
	c, p := startH2PairWrap(t, h2ReadIdle, h2PingTimeout, func(nc net.Conn) net.Conn { log.Conn = nc; return log })
	app, local := loopbackPair(t)
	if _, err := app.Write([]byte("early bytes")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the early bytes to reach the local socket", func() bool {
		rc, _ := local.SyscallConn()
		var avail int
		_ = rc.Control(func(fd uintptr) { avail, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
		return avail == len("early bytes")
	})
	body := newReqBody(newEarly(local))
	id, wait := startOpen(t, c, p, body)
	p.expect("the early DATA", func(f any) bool {
		d, ok := f.(*dataCopy)
		if ok && (d.hdr.StreamID != id || string(d.data) != "early bytes") {
			t.Fatalf("DATA on stream %d: %q", d.hdr.StreamID, d.data)
		}
		return ok
	})
	log.mu.Lock()
	var one []byte
	for _, w := range log.writes {
		fr := http2.NewFramer(nil, bytes.NewReader(w))
		first, err := fr.ReadFrame()
		if err != nil || first.Header().Type != http2.FrameHeaders || first.Header().StreamID != id {
			continue
		}
		if second, err := fr.ReadFrame(); err == nil && second.Header().Type == http2.FrameData {
			one = second.(*http2.DataFrame).Data()
		}
	}
	log.mu.Unlock()
	if string(one) != "early bytes" {
		t.Fatalf("no write held the HEADERS and the early DATA together (%d writes)", len(log.writes))
	}
	if got := string(body.ed.replay); got != "early bytes" {
		t.Fatalf("kept for a replay: %q", got)
	}
	p.headers(id, false, ":status", "200")
	if s := wait(); s == nil {
		t.Fatal("no stream")
	}
}
