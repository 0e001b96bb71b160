package h2srv_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// tlsPair is a TLS connection over loopback: both ends, handshaken.
func tlsPair(t *testing.T) (client, server *tls.Conn) {
	t.Helper()
	tcfg, pool := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *tls.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		sc := tls.Server(nc, tcfg)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if sc.HandshakeContext(ctx) != nil {
			sc.Close()
			accepted <- nil
			return
		}
		accepted <- sc
	}()
	client, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("server handshake failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// wire builds bytes a client sends: the preface, then what frames
// writes.
func wire(frames func(fr *http2.Framer, block func(...hpack.HeaderField) []byte)) []byte {
	var buf, hbuf bytes.Buffer
	buf.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&buf, nil)
	fr.AllowIllegalWrites = true
	enc := hpack.NewEncoder(&hbuf)
	frames(fr, func(fs ...hpack.HeaderField) []byte {
		hbuf.Reset()
		for _, f := range fs {
			enc.WriteField(f)
		}
		return bytes.Clone(hbuf.Bytes())
	})
	return buf.Bytes()
}

func opening(fr *http2.Framer) {
	fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	fr.WriteWindowUpdate(0, 1<<20)
}

func TestPeek(t *testing.T) {
	huge := strings.Repeat("h", 3000)
	tests := []struct {
		name    string
		send    []byte
		connect bool
		err     bool
	}{{
		name: "CONNECT first",
		send: wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
			opening(fr)
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(connect("example.com:443")...), EndHeaders: true})
			fr.WriteData(1, false, []byte("early bytes"))
		}),
		connect: true,
	}, {
		name: "extended CONNECT first",
		send: wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(append(request("CONNECT", "/"), hpack.HeaderField{Name: ":protocol", Value: "websocket"})...), EndHeaders: true})
		}),
		connect: true,
	}, {
		name: "CONNECT in CONTINUATION frames",
		send: wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
			b := block(connect("example.com:443")...)
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:3]})
			fr.WriteContinuation(1, true, b[3:])
		}),
		connect: true,
	}, {
		name: "GET first",
		send: wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
			opening(fr)
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(request("GET", "/")...), EndHeaders: true, EndStream: true})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block(connect("example.com:443")...), EndHeaders: true})
		}),
	}, {
		name: "not HTTP/2",
		send: []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	}, {
		name: "garbage after the preface",
		send: append([]byte(http2.ClientPreface), bytes.Repeat([]byte{0xff}, 100)...),
	}, {
		name: "a frame larger than the peek limit",
		send: wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: make([]byte, 300<<10), EndHeaders: true})
		}),
	}, {
		name: "a header block larger than the peek limit",
		send: wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(request("GET", "/")...)})
			for range 100 {
				fr.WriteContinuation(1, false, block(hpack.HeaderField{Name: "x-huge", Value: huge}))
			}
			fr.WriteContinuation(1, true, block(hpack.HeaderField{Name: "x-end", Value: "1"}))
		}),
	}, {
		name: "the client gives up within the preface",
		send: []byte(http2.ClientPreface[:10]),
		err:  true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			client, server := tlsPair(t)
			tail := []byte("and the rest of the connection")
			go func() {
				client.Write(tt.send)
				if !tt.err {
					client.Write(tail)
				}
				client.CloseWrite()
			}()
			replay, isConnect, err := h2srv.Peek(server)
			if (err != nil) != tt.err || isConnect != tt.connect {
				t.Fatalf("Peek: connect %v, err %v", isConnect, err)
			}
			if tt.err {
				return
			}
			if _, ok := replay.(interface{ ConnectionState() tls.ConnectionState }); !ok {
				t.Error("the replaying connection hides its TLS state")
			}
			got, err := io.ReadAll(replay)
			if err != nil {
				t.Fatal(err)
			}
			if want := append(bytes.Clone(tt.send), tail...); !bytes.Equal(got, want) {
				t.Errorf("replayed %d bytes, want the %d sent", len(got), len(want))
			}
		})
	}
}

// TestPeekTimeout: a client that sends its preface and waits is left to
// the other server after PeekTimeout, without an error, and what it sends
// later follows the preface.
func TestPeekTimeout(t *testing.T) {
	checkGoroutines(t)
	client, server := tlsPair(t)
	sent := wire(func(fr *http2.Framer, block func(...hpack.HeaderField) []byte) { opening(fr) })
	if _, err := client.Write(sent); err != nil {
		t.Fatal(err)
	}
	replay, isConnect, err := h2srv.Peek(server)
	if err != nil || isConnect {
		t.Fatalf("Peek: connect %v, err %v", isConnect, err)
	}
	later := []byte("later")
	go func() {
		client.Write(later)
		client.CloseWrite()
	}()
	got, err := io.ReadAll(replay)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(bytes.Clone(sent), later...); !bytes.Equal(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
	var ne net.Error
	if _, err := replay.Read(make([]byte, 1)); errors.As(err, &ne) && ne.Timeout() {
		t.Error("the peek's read deadline is still set")
	}
}

// TestPeekRouting: through Peek as server/limits.go uses it, x/net's
// client (GET first) gets the other server and answers come back.
func TestPeekRouting(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{Handler: echoHandler()}, true)
	c, _ := ts.client(t)
	if got := get(t, c, ts.url("/")).body; got != "hello" {
		t.Errorf("got %q", got)
	}
	if ts.own.Load() != 0 || ts.other.Load() != 1 {
		t.Errorf("own %d, other %d: want x/net's server", ts.own.Load(), ts.other.Load())
	}
}
