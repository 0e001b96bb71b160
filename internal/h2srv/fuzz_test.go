package h2srv_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// FuzzServeFrames feeds arbitrary bytes after a valid preface to a
// server whose handler echoes: it must not panic, and ServeConn must
// return once the client is gone.
func FuzzServeFrames(f *testing.F) {
	seed := func(frames func(fr *http2.Framer, block func(...hpack.HeaderField) []byte)) {
		b := wire(frames)
		f.Add(b[len(http2.ClientPreface):])
	}
	seed(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
		fr.WriteSettings()
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(request("GET", "/")...), EndHeaders: true, EndStream: true})
	})
	seed(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 14})
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(request("POST", "/", "content-length", "9")...), EndHeaders: true})
		fr.WriteData(1, false, []byte("echo "))
		fr.WriteDataPadded(1, true, []byte("this"), make([]byte, 7))
		fr.WriteWindowUpdate(1, 100)
		fr.WriteWindowUpdate(0, 100)
	})
	seed(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(connect("example.com:443")...), EndHeaders: true})
		fr.WriteData(1, false, []byte("tunnel bytes"))
		fr.WriteRSTStream(1, http2.ErrCodeCancel)
		fr.WritePing(false, [8]byte{1})
	})
	seed(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
		b := block(request("POST", "/", "trailer", "x-t")...)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b[:4], Priority: http2.PriorityParam{StreamDep: 1, Weight: 9}})
		fr.WriteContinuation(3, true, b[4:])
		fr.WriteData(3, false, []byte("body"))
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block(hpack.HeaderField{Name: "x-t", Value: "v"}), EndHeaders: true, EndStream: true})
		fr.WritePriority(5, http2.PriorityParam{StreamDep: 3})
		fr.WriteGoAway(0, http2.ErrCodeNo, []byte("bye"))
	})
	seed(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
		fr.WriteRawFrame(0x77, 0, 1, []byte("unknown"))
		fr.WriteData(7, true, []byte("idle"))
	})
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0xff}, 64))

	f.Fuzz(func(t *testing.T, in []byte) {
		cli, srv := net.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		served := make(chan struct{})
		go func() {
			defer close(served)
			(&h2srv.Server{}).ServeConn(ctx, srv, h2srv.Config{Handler: echoHandler(), WriteTimeout: time.Second})
		}()
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			io.Copy(io.Discard, cli)
		}()
		cli.SetWriteDeadline(time.Now().Add(wait))
		if _, err := cli.Write([]byte(http2.ClientPreface)); err == nil {
			cli.Write(in)
		}
		cli.Close()
		select {
		case <-served:
		case <-time.After(wait):
			t.Fatal("ServeConn did not return after the client closed")
		}
		<-drained
	})
}
