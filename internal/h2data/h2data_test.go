package h2data_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2data"
)

func TestQueue(t *testing.T) {
	var q h2data.Queue
	var want []byte
	for i, n := range []int{1, h2data.BufSize - 1, 2, h2data.BufSize + 5, 0, 7} {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		q.Keep(p)
		want = append(want, p...)
	}
	got := make([]byte, 0, len(want))
	buf := make([]byte, 10000)
	for q.Len() > 0 {
		n := q.Read(buf)
		if n == 0 {
			t.Fatal("Read of a queue with chunks moved nothing")
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, want the %d kept, in order", len(got), len(want))
	}
	q.Keep([]byte("rest"))
	if n := q.Drop(); n != 4 || q.Len() != 0 {
		t.Fatalf("Drop = %d with %d chunks left, want 4 and none", n, q.Len())
	}
}

func TestDrainStopsAtTheFirstFailure(t *testing.T) {
	var q h2data.Queue
	whole := h2data.FrameHeader + h2data.BufSize // a chunk fills its whole buffer
	q.Keep(bytes.Repeat([]byte("x"), whole+10))  // two chunks
	taken := q.Take()
	if q.Len() != 0 || taken.Len() != 2 {
		t.Fatalf("Take left %d and took %d chunks, want 0 and 2", q.Len(), taken.Len())
	}
	boom := errors.New("boom")
	var calls []string
	err := taken.Drain(func(p []byte) (int, error) { return 3, boom }, func(size, took int, tried bool) {
		calls = append(calls, fmt.Sprintf("%v/%d/%d", tried, size, took))
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Drain = %v, want the write's error", err)
	}
	want := []string{fmt.Sprintf("true/%d/3", whole), "false/10/0"}
	if strings.Join(calls, " ") != strings.Join(want, " ") {
		t.Fatalf("done calls %q, want %q", calls, want)
	}
}

func TestWriteSomeKeepsWhatIsNotTaken(t *testing.T) {
	var q h2data.Queue
	q.Keep([]byte("hello world"))
	room := 5
	n, err := q.WriteSome(func(p []byte) (int, error) {
		k := min(room, len(p))
		room -= k
		return k, nil
	})
	if err != nil || n != 5 {
		t.Fatalf("WriteSome = %d, %v; want 5, nil", n, err)
	}
	rest := make([]byte, 20)
	if k := q.Read(rest); string(rest[:k]) != " world" {
		t.Fatalf("left %q, want %q", rest[:k], " world")
	}
}

func TestRecvWindowReturnsAQuarter(t *testing.T) {
	w := h2data.RecvWindow{Left: 100}
	w.Left -= 60
	if inc := w.Return(20, 100); inc != 0 {
		t.Fatalf("20 of a 100-byte window returned %d at once, want 0 (under a quarter)", inc)
	}
	if inc := w.Return(5, 100); inc != 25 || w.Left != 65 || w.Unacked != 0 {
		t.Fatalf("at a quarter: increment %d, left %d, unacked %d; want 25, 65, 0", inc, w.Left, w.Unacked)
	}
}

func TestSendFramesSplitsByWindow(t *testing.T) {
	frame := make([]byte, h2data.FrameHeader+10)
	copy(frame[h2data.FrameHeader:], "0123456789")
	windows := []int{4, 3, 100}
	var sent []string
	err := h2data.SendFrames(frame, func(n int) (int, error) {
		k := min(n, windows[0])
		windows = windows[1:]
		return k, nil
	}, func(f []byte) error {
		sent = append(sent, string(f[h2data.FrameHeader:]))
		return nil
	})
	if err != nil || strings.Join(sent, "|") != "0123|456|789" {
		t.Fatalf("frames %q (%v), want 0123|456|789", sent, err)
	}
	n, err := h2data.SendCopy([]byte(strings.Repeat("z", h2data.BufSize+1)), func(f []byte) error {
		if len(f) > h2data.FrameHeader+h2data.BufSize {
			t.Fatalf("a frame of %d bytes", len(f))
		}
		return nil
	})
	if err != nil || n != h2data.BufSize+1 {
		t.Fatalf("SendCopy = %d, %v", n, err)
	}
}

// The frames written in place and the split header block read back with
// x/net's Framer.
func TestFramesReadBack(t *testing.T) {
	var wire bytes.Buffer
	frame := append(make([]byte, h2data.FrameHeader), "payload"...)
	h2data.PutFrameHeader(frame, len(frame)-h2data.FrameHeader, http2.FrameData, http2.FlagDataEndStream, 3)
	wire.Write(frame)

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	enc.WriteField(hpack.HeaderField{Name: "x-long", Value: strings.Repeat("v", 40000)})
	wfr := http2.NewFramer(&wire, nil)
	if err := h2data.WriteHeaderBlock(wfr, 5, block.Bytes(), 16384, true); err != nil {
		t.Fatal(err)
	}
	if err := h2data.WriteWindowUpdates(wfr, 0, 5, 77); err != nil {
		t.Fatal(err)
	}

	fr := http2.NewFramer(nil, &wire)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	df, ok := f.(*http2.DataFrame)
	if !ok || df.StreamID != 3 || string(df.Data()) != "payload" || !df.StreamEnded() {
		t.Fatalf("first frame %v", f)
	}
	if f, err = fr.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	mh, ok := f.(*http2.MetaHeadersFrame)
	if !ok || mh.StreamID != 5 || !mh.StreamEnded() || len(mh.PseudoValue("status")) == 0 || len(mh.RegularFields()) != 1 || len(mh.RegularFields()[0].Value) != 40000 {
		t.Fatalf("header block read back as %v", f)
	}
	if f, err = fr.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if wu, ok := f.(*http2.WindowUpdateFrame); !ok || wu.StreamID != 5 || wu.Increment != 77 {
		t.Fatalf("WINDOW_UPDATE read back as %v (a zero connection increment is not written)", f)
	}
	if _, err := fr.ReadFrame(); err != io.EOF {
		t.Fatalf("more frames than written: %v", err)
	}
}

func TestCreditIncrementsAtAQuarter(t *testing.T) {
	const connSize, streamSize = 1000, 100
	for _, tc := range []struct {
		name          string
		ns            []int64 // deliveries, in order
		noStream      bool
		wantConn      []uint32 // the connection's increment after each delivery
		wantStream    []uint32
		connLeft      int64
		streamLeft    int64
		streamUnacked int64
	}{
		{"below both quarters", []int64{10, 14}, false, []uint32{0, 0}, []uint32{0, 0}, 0, 0, 24},
		{"the stream's quarter", []int64{20, 5}, false, []uint32{0, 0}, []uint32{0, 25}, 0, 25, 0},
		{"both quarters", []int64{250}, false, []uint32{250}, []uint32{250}, 250, 250, 0},
		{"the connection's quarter over several", []int64{100, 100, 50}, false, []uint32{0, 0, 250}, []uint32{100, 100, 50}, 250, 250, 0},
		{"no stream", []int64{30, 220}, true, []uint32{0, 250}, []uint32{0, 0}, 250, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conn, stream h2data.RecvWindow
			for i, n := range tc.ns {
				sw := &stream
				if tc.noStream {
					sw = nil
				}
				connInc, streamInc := h2data.Credit(n, &conn, connSize, sw, streamSize)
				if connInc != tc.wantConn[i] || streamInc != tc.wantStream[i] {
					t.Fatalf("Credit(%d) #%d = %d, %d; want %d, %d", n, i, connInc, streamInc, tc.wantConn[i], tc.wantStream[i])
				}
			}
			if conn.Left != tc.connLeft || stream.Left != tc.streamLeft || stream.Unacked != tc.streamUnacked {
				t.Fatalf("windows left: connection %d, stream %d (%d unacked); want %d, %d (%d)",
					conn.Left, stream.Left, stream.Unacked, tc.connLeft, tc.streamLeft, tc.streamUnacked)
			}
		})
	}
}

func TestPutDataHeaderReadsBack(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		id            uint32
		end           bool
	}{
		{"data", "payload", 3, false},
		{"data ending the stream", "last", 5, true},
		{"empty END_STREAM", "", 7, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := append(make([]byte, h2data.FrameHeader), tc.payload...)
			if n := h2data.PutDataHeader(frame, tc.id, tc.end); n != len(tc.payload) {
				t.Fatalf("PutDataHeader = %d, want the payload's %d", n, len(tc.payload))
			}
			f, err := http2.NewFramer(nil, bytes.NewReader(frame)).ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			df, ok := f.(*http2.DataFrame)
			if !ok || df.StreamID != tc.id || string(df.Data()) != tc.payload || df.StreamEnded() != tc.end {
				t.Fatalf("read back as %v, want DATA on %d of %q, END_STREAM %v", f, tc.id, tc.payload, tc.end)
			}
		})
	}
}

func TestRecvWindowReceive(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		left, size, wantLeft int64
		ok                   bool
	}{
		{"within", 100, 60, 40, true},
		{"all of it", 100, 100, 0, true},
		{"empty frame on a closed window", 0, 0, 0, true},
		{"beyond", 100, 101, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := h2data.RecvWindow{Left: tc.left}
			if ok := w.Receive(tc.size); ok != tc.ok || w.Left != tc.wantLeft {
				t.Fatalf("Receive(%d) of %d = %v leaving %d; want %v leaving %d", tc.size, tc.left, ok, w.Left, tc.ok, tc.wantLeft)
			}
		})
	}
}
