package h2srv_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// parked answers "/" at once and otherwise holds its stream, reading
// nothing, until the stream or the connection ends.
var parked = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		w.Write([]byte("hello"))
		return
	}
	<-r.Context().Done()
})

// alive checks that the connection still answers a PING.
func alive(t *testing.T, rc *rawClient) {
	t.Helper()
	data := [8]byte{'a', 'l', 'i', 'v', 'e'}
	rc.write(func(fr *http2.Framer) error { return fr.WritePing(false, data) })
	rc.expect("the PING's answer", func(f frame) bool {
		return f.Type == http2.FramePing && f.Flags.Has(http2.FlagPingAck) && f.Ping == data
	})
}

func post(path string, extra ...string) []hpack.HeaderField { return request("POST", path, extra...) }

// TestHostile: a client breaking the protocol gets the stream error or
// the GOAWAY the RFC asks for; after a GOAWAY the connection closes and
// ServeConn returns, after a stream error the connection goes on.
func TestHostile(t *testing.T) {
	const none = http2.ErrCode(0xffff)
	tests := []struct {
		name     string
		cfg      h2srv.Config
		opts     rawOpts
		send     func(t *testing.T, rc *rawClient)
		goAway   http2.ErrCode // the connection ends with it
		rstID    uint32        // else this stream is reset, with rst
		rst      http2.ErrCode
		closedOK bool // the server just closes (no GOAWAY)
		stay     bool // the client stays after the GOAWAY: the server closes anyway
	}{{
		name:     "bad preface",
		opts:     rawOpts{preface: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", noSettings: true},
		send:     func(t *testing.T, rc *rawClient) {},
		closedOK: true,
	}, {
		name: "DATA on an idle stream",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error { return fr.WriteData(5, false, []byte("x")) })
		},
		goAway: http2.ErrCodeProtocol,
		stay:   true,
	}, {
		name: "DATA beyond the stream window",
		cfg:  h2srv.Config{StreamWindow: 16 << 10},
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park")...)
			rc.write(func(fr *http2.Framer) error {
				fr.WriteData(1, false, make([]byte, 16<<10))
				return fr.WriteData(1, false, []byte("1 too many"))
			})
		},
		rstID: 1, rst: http2.ErrCodeFlowControl,
	}, {
		name: "DATA beyond the connection window",
		cfg:  h2srv.Config{ConnWindow: 65535}, // also: no WINDOW_UPDATE of 0 at the start
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park")...)
			rc.write(func(fr *http2.Framer) error {
				for range 4 {
					fr.WriteData(1, false, make([]byte, 16<<10))
				}
				return nil
			})
		},
		goAway: http2.ErrCodeFlowControl,
	}, {
		name: "HEADERS on an even stream",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(2, true, request("GET", "/")...)
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "stream ids going backwards",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(5, true, request("GET", "/")...)
			rc.headers(3, true, request("GET", "/")...)
		},
		goAway: http2.ErrCodeStreamClosed,
	}, {
		name: "connection WINDOW_UPDATE overflow",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1) })
		},
		goAway: http2.ErrCodeFlowControl,
	}, {
		name: "stream WINDOW_UPDATE overflow",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, true, request("GET", "/park")...)
			rc.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(1, 1<<31-1) })
		},
		rstID: 1, rst: http2.ErrCodeFlowControl,
	}, {
		name: "WINDOW_UPDATE on an idle stream",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(7, 1) })
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "SETTINGS_INITIAL_WINDOW_SIZE too large",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error {
				return fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 31})
			})
		},
		goAway: http2.ErrCodeFlowControl,
	}, {
		name: "SETTINGS_MAX_FRAME_SIZE too small",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error {
				return fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 100})
			})
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "SETTINGS_ENABLE_PUSH not 0 or 1",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error {
				return fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 2})
			})
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "a stream window at 2^31-1, then SETTINGS growing it",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, true, request("GET", "/park")...)
			// 65535 + this is the largest window: no error yet.
			rc.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(1, 1<<31-1-65535) })
			alive(t, rc)
			rc.write(func(fr *http2.Framer) error {
				return fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65536})
			})
		},
		goAway: http2.ErrCodeFlowControl,
	}, {
		name: "PUSH_PROMISE from the client",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, true, request("GET", "/park")...)
			var buf bytes.Buffer
			hpack.NewEncoder(&buf).WriteField(hpack.HeaderField{Name: ":method", Value: "GET"})
			rc.write(func(fr *http2.Framer) error {
				return fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: buf.Bytes(), EndHeaders: true})
			})
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "RST_STREAM on an idle stream",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(9, http2.ErrCodeCancel) })
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "a frame over MAX_FRAME_SIZE",
		cfg:  h2srv.Config{MaxReadFrameSize: 16 << 10},
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park")...)
			rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, false, make([]byte, 16<<10+1)) })
		},
		goAway: http2.ErrCodeFrameSize,
	}, {
		name: "CONTINUATION flood",
		cfg:  h2srv.Config{MaxHeaderBytes: 16 << 10},
		send: func(t *testing.T, rc *rawClient) {
			var buf bytes.Buffer
			enc := hpack.NewEncoder(&buf)
			for _, f := range request("GET", "/") {
				enc.WriteField(f)
			}
			rc.write(func(fr *http2.Framer) error {
				if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: buf.Bytes(), EndStream: true}); err != nil {
					return err
				}
				// 64 MiB of header fields, never ended: the server
				// stops reading long before.
				for i := range 16 << 10 {
					buf.Reset()
					enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-%d", i), Value: strings.Repeat("v", 4000)})
					if err := fr.WriteContinuation(1, false, buf.Bytes()); err != nil {
						return err
					}
				}
				return nil
			})
		},
		goAway: http2.ErrCodeProtocol,
	}, {
		name: "malformed HEADERS then DATA",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park", "bad name", "x")...)
			rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, true, []byte("body")) })
		},
		rstID: 1, rst: http2.ErrCodeProtocol,
	}, {
		name: "connection-specific header",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park", "transfer-encoding", "chunked")...)
			rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, true, []byte("0\r\n\r\n")) })
		},
		rstID: 1, rst: http2.ErrCodeProtocol,
	}, {
		name: "DATA after END_STREAM",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, true, request("GET", "/park")...)
			rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, false, []byte("late")) })
		},
		rstID: 1, rst: http2.ErrCodeStreamClosed,
	}, {
		name: "trailers after the server ended the stream",
		send: func(t *testing.T, rc *rawClient) {
			// "/" answers without reading the body: the server ends
			// the stream (END_STREAM, RST_STREAM NO_ERROR) while the
			// client still sends; its trailers cross the RST_STREAM.
			rc.headers(1, false, post("/")...)
			rc.data(1, []byte("body"), false)
			rc.expect("RST_STREAM NO_ERROR", func(f frame) bool {
				return f.Type == http2.FrameRSTStream && f.StreamID == 1 && f.Code == http2.ErrCodeNo
			})
			rc.headers(1, true, hpack.HeaderField{Name: "x-trailer", Value: "t"})
		},
		goAway: none, // ignored
	}, {
		name: "HEADERS again after END_STREAM",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, true, request("GET", "/park")...)
			rc.headers(1, true, hpack.HeaderField{Name: "x-trailer", Value: "t"})
		},
		rstID: 1, rst: http2.ErrCodeStreamClosed,
	}, {
		name: "HEADERS reopening a closed stream",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, true, request("GET", "/")...)
			rc.response(1)
			rc.headers(1, false, post("/")...)
		},
		goAway: http2.ErrCodeStreamClosed,
	}, {
		name: "body longer than Content-Length",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park", "content-length", "3")...)
			rc.data(1, []byte("four"), true)
		},
		rstID: 1, rst: http2.ErrCodeProtocol,
	}, {
		name: "body shorter than Content-Length",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park", "content-length", "10")...)
			rc.data(1, []byte("four"), true)
		},
		rstID: 1, rst: http2.ErrCodeProtocol,
	}, {
		name: "body shorter than Content-Length, ended by trailers",
		send: func(t *testing.T, rc *rawClient) {
			rc.headers(1, false, post("/park", "content-length", "10")...)
			rc.data(1, []byte("four"), false)
			rc.headers(1, true, hpack.HeaderField{Name: "x-trailer", Value: "t"})
		},
		rstID: 1, rst: http2.ErrCodeProtocol,
	}, {
		name: "GOAWAY from the client",
		send: func(t *testing.T, rc *rawClient) {
			rc.write(func(fr *http2.Framer) error { return fr.WriteGoAway(0, http2.ErrCodeNo, nil) })
		},
		goAway: http2.ErrCodeNo,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			cfg := tt.cfg
			cfg.Handler = parked
			ts := startServer(t, cfg, false)
			rc := dialRaw(t, ts, tt.opts)
			tt.send(t, rc)
			switch {
			case tt.closedOK:
				if f := rc.expectClosed(); f.Type == http2.FrameGoAway {
					t.Errorf("got %v, want the connection closed", f)
				}
				ts.waitEnded(t, 1)
				return
			case tt.rstID != 0:
				rc.expect(fmt.Sprintf("RST_STREAM %d %v", tt.rstID, tt.rst), func(f frame) bool {
					if f.Type == http2.FrameGoAway {
						t.Fatalf("got %v", f)
					}
					return f.Type == http2.FrameRSTStream && f.StreamID == tt.rstID && f.Code == tt.rst
				})
				alive(t, rc)
				rc.headers(101, true, request("GET", "/")...)
				if r := rc.response(101); string(r.body) != "hello" {
					t.Errorf("the next request: %+v", r)
				}
			case tt.goAway == none:
				alive(t, rc)
				rc.headers(101, true, request("GET", "/")...)
				if r := rc.response(101); string(r.body) != "hello" {
					t.Errorf("the next request: %+v", r)
				}
			case tt.stay:
				f := rc.expectClosed()
				if f.Type != http2.FrameGoAway || f.Code != tt.goAway {
					t.Errorf("got %v, want GOAWAY %v", f, tt.goAway)
				}
				ts.waitEnded(t, 1)
				return
			default:
				f, ok := rc.next()
				for ok && f.Type != http2.FrameGoAway {
					f, ok = rc.next()
				}
				if f.Type != http2.FrameGoAway || f.Code != tt.goAway {
					t.Errorf("got %v, want GOAWAY %v", f, tt.goAway)
				}
			}
			rc.close()
			ts.waitEnded(t, 1)
		})
	}
}

// TestRefusedStream: HEADERS beyond MaxConcurrentStreams are refused;
// the streams below the limit go on, and a stream that just ended frees
// its slot for the very next HEADERS.
func TestRefusedStream(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	ts := startServer(t, h2srv.Config{MaxConcurrentStreams: 2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		w.Write([]byte(r.URL.Path))
	})}, false)
	rc := dialRaw(t, ts, rawOpts{})
	rc.serverSettings()
	for _, id := range []uint32{1, 3, 5} {
		rc.headers(id, true, request("GET", "/hold")...)
	}
	if r := rc.response(5); !r.reset || r.code != http2.ErrCodeRefusedStream {
		t.Errorf("stream 5: %+v, want REFUSED_STREAM", r)
	}
	close(release)
	for _, id := range []uint32{1, 3} {
		if r := rc.response(id); string(r.body) != "/hold" {
			t.Errorf("stream %d: %+v", id, r)
		}
	}
	// One stream at a time, each opened as soon as the last ended: a
	// slot must be free by the time its END_STREAM is read.
	for id := uint32(7); id < 7+4*300; id += 4 {
		rc.headers(id, true, request("GET", "/")...)
		rc.headers(id+2, true, request("GET", "/")...)
		for _, id := range []uint32{id, id + 2} {
			if r := rc.response(id); r.reset {
				t.Fatalf("stream %d: %v", id, r.code)
			}
		}
	}
}

// TestHeadersTooLarge: a header block over MaxHeaderBytes gets 431, and
// the connection goes on.
func TestHeadersTooLarge(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{MaxHeaderBytes: 16 << 10, Handler: parked}, false)
	rc := dialRaw(t, ts, rawOpts{})
	// Fields each below the limit (a longer one is a COMPRESSION_ERROR
	// in x/net's decoder), together above it.
	big := strings.Repeat("b", 7<<10)
	rc.headers(1, true, request("GET", "/", "x-a", big, "x-b", big, "x-c", big)...)
	if r := rc.response(1); r.status != "431" {
		t.Errorf("got %+v, want 431", r)
	}
	rc.headers(3, true, request("GET", "/")...)
	if r := rc.response(3); string(r.body) != "hello" {
		t.Errorf("next: %+v", r)
	}
}

// TestUnreadBody: a body its handler never read is given back to the
// connection's window when the handler is done, even after the client
// ended it.
func TestUnreadBody(t *testing.T) {
	checkGoroutines(t)
	proceed := make(chan struct{})
	ts := startServer(t, h2srv.Config{ConnWindow: 128 << 10, StreamWindow: 64 << 10, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-proceed:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "unread")
	})}, false)
	rc := dialRaw(t, ts, rawOpts{})
	for id := uint32(1); id < 20; id += 2 {
		rc.headers(id, false, post("/")...)
		if err := rc.data(id, make([]byte, 60<<10), true); err != nil {
			t.Fatalf("request %d: %v", id, err)
		}
		alive(t, rc) // the server has it all before the handler answers
		proceed <- struct{}{}
		if r := rc.response(id); string(r.body) != "unread" {
			t.Fatalf("request %d: %+v", id, r)
		}
	}
}

// TestHostHeader: a request without :authority takes Host.
func TestHostHeader(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	})}, false)
	rc := dialRaw(t, ts, rawOpts{})
	rc.headers(1, true,
		hpack.HeaderField{Name: ":method", Value: "GET"}, hpack.HeaderField{Name: ":scheme", Value: "https"},
		hpack.HeaderField{Name: ":path", Value: "/"}, hpack.HeaderField{Name: "host", Value: "example.com:8443"})
	if r := rc.response(1); string(r.body) != "example.com:8443" {
		t.Errorf("got %+v", r)
	}
}

// TestPing: a PING is answered with its data.
func TestPing(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{Handler: parked}, false)
	rc := dialRaw(t, ts, rawOpts{})
	alive(t, rc)
}

// TestWriteTimeout: a client that takes nothing is dropped after
// WriteTimeout, also while it has sent data the handler has not read.
func TestWriteTimeout(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{WriteTimeout: 300 * time.Millisecond, ConnWindow: 256 << 10, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})}, false)
	// No reader: nothing the server sends is taken.
	nc, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fr := http2.NewFramer(nc, nil)
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	for _, f := range post("/") {
		enc.WriteField(f)
	}
	nc.Write([]byte(http2.ClientPreface))
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	fr.WriteWindowUpdate(0, 1<<31-1-65535)
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hbuf.Bytes(), EndHeaders: true})
	for range 7 { // pending, unread: over a quarter of the connection window
		fr.WriteData(1, false, make([]byte, 16<<10))
	}
	ts.waitEnded(t, 1)
}
