// Package h2data holds the pieces of an HTTP/2 tunnel's data path that the
// client (tunnel) and the server (internal/h2srv) share: DATA frame
// headers written in place in front of their payload, the pooled buffers
// a stream reads into and keeps received data in, the queue of that data,
// the send windows DATA waits for and the reads that fill it, the
// receive-window bookkeeping behind WINDOW_UPDATE, and header blocks split
// into HEADERS and CONTINUATION frames.
package h2data

import (
	"encoding/binary"
	"syscall"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/bufpool"
	"github.com/porthole-dev/porthole/internal/sockio"
)

// FrameHeader is the size of an HTTP/2 frame header: the room a buffer
// keeps in front of a DATA payload.
const FrameHeader = 9

// BufSize is the payload room of a pooled buffer: the most one read of a
// socket takes, and the size of a queued chunk.
const BufSize = 256 << 10

var pool = bufpool.New(func() *[]byte { b := make([]byte, FrameHeader+BufSize); return &b })

// Bufs is the buffer pool, as internal/sockio takes it.
type Bufs struct{}

func (Bufs) Get() *[]byte  { return pool.Get() }
func (Bufs) Put(b *[]byte) { pool.Put(b) }

// PutFrameHeader writes a frame header into b[:9].
func PutFrameHeader(b []byte, length int, typ http2.FrameType, flags http2.Flags, id uint32) {
	b[0], b[1], b[2] = byte(length>>16), byte(length>>8), byte(length)
	b[3], b[4] = byte(typ), byte(flags)
	binary.BigEndian.PutUint32(b[5:9], id&(1<<31-1))
}

// PutDataHeader writes the header of a DATA frame on stream id into
// frame[:9], in front of its payload frame[9:] (END_STREAM when end), and
// returns the payload's length.
func PutDataHeader(frame []byte, id uint32, end bool) int {
	n := len(frame) - FrameHeader
	var flags http2.Flags
	if end {
		flags = http2.FlagDataEndStream
	}
	PutFrameHeader(frame, n, http2.FrameData, flags, id)
	return n
}

// Queue is received data not yet delivered, in pooled buffers. Its user
// guards it.
type Queue struct {
	chunks []chunk
}

type chunk struct {
	bp   *[]byte
	r, w int
}

// Len is the number of chunks held (0: empty).
func (q *Queue) Len() int { return len(q.chunks) }

// Keep appends a copy of p.
func (q *Queue) Keep(p []byte) {
	for len(p) > 0 {
		if k := len(q.chunks); k > 0 {
			last := &q.chunks[k-1]
			if room := len(*last.bp) - last.w; room > 0 {
				n := copy((*last.bp)[last.w:], p)
				last.w += n
				p = p[n:]
				continue
			}
		}
		q.chunks = append(q.chunks, chunk{bp: Bufs{}.Get()})
	}
}

// Drop frees what is held and returns its size.
func (q *Queue) Drop() int64 {
	var n int64
	for _, ch := range q.chunks {
		n += int64(ch.w - ch.r)
		pool.Put(ch.bp)
	}
	q.chunks = nil
	return n
}

// Read moves up to len(p) bytes into p.
func (q *Queue) Read(p []byte) int {
	n := 0
	for n < len(p) && len(q.chunks) > 0 {
		ch := &q.chunks[0]
		m := copy(p[n:], (*ch.bp)[ch.r:ch.w])
		ch.r += m
		n += m
		if ch.r == ch.w {
			pool.Put(ch.bp)
			q.chunks = q.chunks[1:]
		}
	}
	return n
}

// Take hands everything held to the caller, whose Drain writes it out.
func (q *Queue) Take() Queue {
	out := *q
	q.chunks = nil
	return out
}

// Drain writes the queue's chunks in order with write until one fails,
// freeing each; done is called with each chunk's size, what write took of
// it, and whether write was tried on it (not after a failure). It
// returns write's error.
func (q Queue) Drain(write func([]byte) (int, error), done func(size, took int, tried bool)) error {
	var werr error
	for _, ch := range q.chunks {
		size, took, tried := ch.w-ch.r, 0, werr == nil
		if tried {
			took, werr = write((*ch.bp)[ch.r:ch.w])
		}
		done(size, took, tried)
		pool.Put(ch.bp)
	}
	return werr
}

// WriteSome writes chunks in order with write (one that never waits) as
// long as each is taken whole; what is left stays queued. It returns the
// bytes taken and write's error.
func (q *Queue) WriteSome(write func([]byte) (int, error)) (int64, error) {
	var sent int64
	for len(q.chunks) > 0 {
		ch := &q.chunks[0]
		n, err := write((*ch.bp)[ch.r:ch.w])
		ch.r += n
		sent += int64(n)
		if err != nil || ch.r < ch.w {
			return sent, err
		}
		pool.Put(ch.bp)
		q.chunks = q.chunks[1:]
	}
	return sent, nil
}

// RecvWindow is one receive window (a connection's or a stream's): how
// much the peer may still send, and how much was delivered since the
// last WINDOW_UPDATE.
type RecvWindow struct {
	Left    int64
	Unacked int64
}

// Receive books a DATA frame's flow-controlled size against the window.
// It reports false, booking nothing, for a frame beyond what is left: a
// flow-control error.
func (w *RecvWindow) Receive(size int64) bool {
	if size > w.Left {
		return false
	}
	w.Left -= size
	return true
}

// Return books n delivered bytes and returns the WINDOW_UPDATE increment
// due, once a quarter of size has been delivered (0 until then).
func (w *RecvWindow) Return(n, size int64) uint32 {
	w.Unacked += n
	if w.Unacked < size/4 {
		return 0
	}
	inc := w.Unacked
	w.Left += inc
	w.Unacked = 0
	return uint32(inc)
}

// Credit books n delivered bytes against a connection's receive window
// (conn, of connSize) and, unless stream is nil, a stream's (of
// streamSize), and returns the WINDOW_UPDATE increments now due (0: none
// yet). The caller holds the lock that guards both windows and passes nil
// for bytes on no stream or on one the peer ended, where nothing more
// comes to make room for. It writes the updates once it has let go of the
// lock: writers take that lock after their own.
func Credit(n int64, conn *RecvWindow, connSize int64, stream *RecvWindow, streamSize int64) (connInc, streamInc uint32) {
	connInc = conn.Return(n, connSize)
	if stream != nil {
		streamInc = stream.Return(n, streamSize)
	}
	return connInc, streamInc
}

// SendFrames sends frame[9:] as DATA frames, as the send windows allow:
// take waits for window and books up to n bytes of it, write sends one
// frame (its header written in place, in front of its payload).
func SendFrames(frame []byte, take func(n int) (int, error), write func(frame []byte) error) error {
	n := len(frame) - FrameHeader
	for off := 0; off < n; {
		k, err := take(n - off)
		if err != nil {
			return err
		}
		if err := write(frame[off : off+FrameHeader+k]); err != nil {
			return err
		}
		off += k
	}
	return nil
}

// SendCopy sends p through send (SendFrames with the stream's windows) in
// frames copied into a pooled buffer, room for the header in front. It
// returns how much of p went out.
func SendCopy(p []byte, send func(frame []byte) error) (int, error) {
	bp := Bufs{}.Get()
	defer Bufs{}.Put(bp)
	written := 0
	for len(p) > 0 {
		k := min(len(p), len(*bp)-FrameHeader)
		copy((*bp)[FrameHeader:], p[:k])
		if err := send((*bp)[:FrameHeader+k]); err != nil {
			return written, err
		}
		written += k
		p = p[k:]
	}
	return written, nil
}

// ReadData reads up to k bytes of a DATA payload into *bp, after the room
// for the frame header. A socket (raw) is read only once it has data, into
// a buffer taken from the pool just then, so an idle one holds none (see
// ReleaseData); without one, read fills a buffer kept across calls.
func ReadData(raw syscall.RawConn, read func([]byte) (int, error), bp **[]byte, k int) (int, error) {
	if raw != nil {
		return sockio.ReadReady(raw, Bufs{}, bp, FrameHeader, k)
	}
	if *bp == nil {
		*bp = Bufs{}.Get()
	}
	return read((**bp)[FrameHeader : FrameHeader+k])
}

// ReleaseData gives the buffer a socket was read into back to the pool
// once its frame is out (ReadData takes a new one when data comes); a
// reader's buffer stays for the next read.
func ReleaseData(raw syscall.RawConn, bp **[]byte) {
	if raw != nil && *bp != nil {
		Bufs{}.Put(*bp)
		*bp = nil
	}
}

// WriteWindowUpdates writes the connection's WINDOW_UPDATE (connInc) and
// stream id's (streamInc), each only when not zero.
func WriteWindowUpdates(fr *http2.Framer, connInc uint32, id, streamInc uint32) error {
	if connInc > 0 {
		if err := fr.WriteWindowUpdate(0, connInc); err != nil {
			return err
		}
	}
	if streamInc > 0 {
		return fr.WriteWindowUpdate(id, streamInc)
	}
	return nil
}

// WriteHeaderBlock writes block on stream id as HEADERS and as many
// CONTINUATION frames as frame (the peer's largest frame) requires.
func WriteHeaderBlock(fr *http2.Framer, id uint32, block []byte, frame int, endStream bool) error {
	first := true
	for first || len(block) > 0 {
		n := min(len(block), frame)
		var err error
		if first {
			err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:n], EndHeaders: n == len(block), EndStream: endStream})
		} else {
			err = fr.WriteContinuation(id, n == len(block), block[:n])
		}
		if err != nil {
			return err
		}
		block, first = block[n:], false
	}
	return nil
}
