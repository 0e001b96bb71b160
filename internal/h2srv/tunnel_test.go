package h2srv_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/h2srv"
	"github.com/porthole-dev/porthole/internal/sockio"
)

var modes = []struct {
	name string
	peek bool
	wrap bool // the upstream is no *net.TCPConn
}{{"ServeConn", false, false}, {"Peek", true, false}, {"not TCP", false, true}}

// TestConnectEcho: a CONNECT's early data and several MiB go to the
// upstream and back intact, in either direction past every window.
func TestConnectEcho(t *testing.T) {
	payload := make([]byte, 5<<20+777)
	rand.Read(payload)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			checkGoroutines(t)
			up := startUpstream(t, true)
			ts := startServer(t, h2srv.Config{Handler: tunnelVia(up.addr, m.wrap), StreamWindow: 128 << 10, ConnWindow: 256 << 10}, m.peek)
			rc := dialRaw(t, ts, rawOpts{})
			// The first bytes go right behind the HEADERS, before any
			// answer: the handler finds them waiting.
			if err := rc.headers(1, false, connect("upstream:1")...); err != nil {
				t.Fatal(err)
			}
			early := payload[:1000]
			if err := rc.data(1, early, false); err != nil {
				t.Fatal(err)
			}
			sent := make(chan error, 1)
			go func() { sent <- rc.data(1, payload[len(early):], true) }()
			r := rc.response(1)
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			if r.reset || r.status != "200" {
				t.Fatalf("response: %+v", r)
			}
			if len(r.body) != len(payload) || sha256.Sum256(r.body) != sha256.Sum256(payload) {
				t.Errorf("echoed %d bytes of %d, or not the same", len(r.body), len(payload))
			}
			if m.peek && (ts.own.Load() != 1 || ts.other.Load() != 0) {
				t.Errorf("Peek gave it to the wrong server: own %d, other %d", ts.own.Load(), ts.other.Load())
			}
			rc.close()
			ts.waitEnded(t, 1)
		})
	}
}

// TestConnectEnds: each way a tunnel ends reaches the other side.
func TestConnectEnds(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(map[bool]string{false: "TCP", true: "not TCP"}[wrap], func(t *testing.T) { testConnectEnds(t, wrap) })
	}
}

func testConnectEnds(t *testing.T, wrap bool) {
	tests := []struct {
		name string
		run  func(t *testing.T, rc *rawClient, up *net.TCPConn)
	}{{
		name: "client END_STREAM: the upstream reads EOF, then answers",
		run: func(t *testing.T, rc *rawClient, up *net.TCPConn) {
			if err := rc.data(1, []byte("ping"), true); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(up)
			if err != nil || string(got) != "ping" {
				t.Fatalf("upstream read %q, %v", got, err)
			}
			up.Write([]byte("pong"))
			up.Close()
			if r := rc.response(1); r.reset || string(r.body) != "pong" {
				t.Errorf("client: %+v", r)
			}
		},
	}, {
		name: "upstream closes: the client gets END_STREAM",
		run: func(t *testing.T, rc *rawClient, up *net.TCPConn) {
			up.Write([]byte("bye"))
			up.Close()
			if r := rc.response(1); r.reset || string(r.body) != "bye" {
				t.Errorf("client: %+v", r)
			}
		},
	}, {
		name: "client RST_STREAM: the upstream connection is closed",
		run: func(t *testing.T, rc *rawClient, up *net.TCPConn) {
			rc.expect("the 200", isType(http2.FrameHeaders, 1))
			rc.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(1, http2.ErrCodeCancel) })
			up.SetReadDeadline(time.Now().Add(wait))
			_, err := io.ReadAll(up)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Error("the upstream connection stayed open")
			}
		},
	}, {
		name: "upstream reset: the client gets RST_STREAM",
		run: func(t *testing.T, rc *rawClient, up *net.TCPConn) {
			rc.expect("the 200", isType(http2.FrameHeaders, 1))
			up.SetLinger(0)
			up.Close()
			if r := rc.response(1); !r.reset {
				t.Errorf("client: %+v, want RST_STREAM", r)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			up := startUpstream(t, false)
			ts := startServer(t, h2srv.Config{Handler: tunnelVia(up.addr, wrap)}, false)
			rc := dialRaw(t, ts, rawOpts{})
			if err := rc.headers(1, false, connect("upstream:1")...); err != nil {
				t.Fatal(err)
			}
			conn := up.accept(t)
			defer conn.Close()
			tt.run(t, rc, conn)
			// The connection outlives the stream.
			if err := rc.headers(3, true, request("GET", "/")...); err != nil {
				t.Fatal(err)
			}
			if r := rc.response(3); string(r.body) != "hello" {
				t.Errorf("next stream: %+v", r)
			}
			rc.close()
			ts.waitEnded(t, 1)
		})
	}
}

// TestExtendedConnect: :protocol is taken only when Config.ExtendedConnect
// announced it.
func TestExtendedConnect(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		t.Run(map[bool]string{true: "enabled", false: "disabled"}[enabled], func(t *testing.T) {
			checkGoroutines(t)
			ts := startServer(t, h2srv.Config{ExtendedConnect: enabled, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Protocol", r.Header.Get(":protocol"))
				w.Header().Set("X-Method", r.Method)
				w.WriteHeader(http.StatusOK)
			})}, false)
			rc := dialRaw(t, ts, rawOpts{})
			announced := false
			for _, s := range rc.serverSettings() {
				if s.ID == http2.SettingEnableConnectProtocol && s.Val == 1 {
					announced = true
				}
			}
			if announced != enabled {
				t.Errorf("SETTINGS_ENABLE_CONNECT_PROTOCOL announced: %v", announced)
			}
			fields := append(request("CONNECT", "/chat"), hpack.HeaderField{Name: ":protocol", Value: "websocket"})
			if err := rc.headers(1, false, fields...); err != nil {
				t.Fatal(err)
			}
			r := rc.response(1)
			switch {
			case enabled && (r.reset || r.header.field("x-protocol") != "websocket" || r.header.field("x-method") != "CONNECT"):
				t.Errorf("enabled: %+v", r)
			case !enabled && (!r.reset || r.code != http2.ErrCodeProtocol):
				t.Errorf("disabled: %+v, want RST_STREAM PROTOCOL_ERROR", r)
			}
		})
	}
}

// TestConnectMalformed: a CONNECT with :path (not extended) or without
// :authority is a stream error.
func TestConnectMalformed(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{Handler: echoHandler()}, false)
	rc := dialRaw(t, ts, rawOpts{})
	for i, fields := range [][]hpack.HeaderField{
		request("CONNECT", "/x"),
		{{Name: ":method", Value: "CONNECT"}},
	} {
		id := uint32(2*i + 1)
		rc.headers(id, false, fields...)
		if r := rc.response(id); !r.reset || r.code != http2.ErrCodeProtocol {
			t.Errorf("%v: %+v", fields, r)
		}
	}
	rc.headers(5, true, request("GET", "/")...)
	if r := rc.response(5); !bytes.Equal(r.body, []byte("hello")) {
		t.Errorf("after: %+v", r)
	}
}

// TestWindowAfterStreamEnd: a write on a stream whose side already ended
// (DownloadFrom sent END_STREAM) fails without using up the connection's
// send window, which the next stream still needs.
func TestWindowAfterStreamEnd(t *testing.T) {
	checkGoroutines(t)
	up := startUpstream(t, false)
	wrote := make(chan error, 1)
	ts := startServer(t, h2srv.Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			w.Write(bytes.Repeat([]byte("x"), 20000))
			return
		}
		conn, err := net.Dial("tcp", up.addr)
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		w.(tunnel).DownloadFrom(conn, nil) // the upstream closes at once: END_STREAM
		// Each write would take a frame's worth (16 KiB) of window.
		for range 3 {
			if _, err = w.Write(make([]byte, 16<<10)); err == nil {
				break
			}
		}
		wrote <- err
	})}, false)
	rc := dialRaw(t, ts, rawOpts{noCredit: true}) // the client's windows stay at 65535
	rc.headers(1, false, connect("upstream:1")...)
	up.accept(t).Close()
	if err := <-wrote; err == nil {
		t.Error("a write after END_STREAM succeeded")
	}
	rc.headers(3, true, request("GET", "/")...)
	if r := rc.response(3); len(r.body) != 20000 {
		t.Errorf("the next stream: %d bytes, reset %v", len(r.body), r.reset)
	}
}

// TestDeliverTakesTheEarlyDataFirst: early data that shares the HEADERS'
// TLS record is already at the upstream when Deliver returns, on one P
// too, where the goroutine now reading has not run yet when the handler
// starts. Before, Deliver found nothing pending there and the handler's
// 200 went out ahead of the early data.
func TestDeliverTakesTheEarlyDataFirst(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	checkGoroutines(t)
	// The upstream connection exists before the request: the handler
	// makes no call that waits, which would let the reader run anyway.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	up, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerRaw, err := peer.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	atDeliver := make(chan string, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tn := w.(tunnel)
		tn.Deliver(up, nil)
		b := make([]byte, 16)
		atDeliver <- string(b[:sockio.ReadAvailable(peerRaw, b)])
		w.WriteHeader(http.StatusOK)
		r.Body.Close()
	})
	ts := startServer(t, h2srv.Config{Handler: handler}, false)
	rc := dialRaw(t, ts, rawOpts{})
	if err := rc.headersWithData(1, connect("upstream:1"), []byte("early")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-atDeliver:
		if got != "early" {
			t.Fatalf("the upstream held %q when Deliver returned; want the early data, %q", got, "early")
		}
	case <-time.After(wait):
		t.Fatal("the handler never ran")
	}
	if r := rc.response(1); r.status != "200" {
		t.Fatalf("status %q, want 200", r.status)
	}
	rc.close()
	ts.waitEnded(t, 1)
}

// TestDeliverOpensTheDirectPath: DATA read after the handler called
// Deliver goes to the upstream from the frame reader at once, before
// UploadTo's goroutine runs. The early data behind a CONNECT's HEADERS is
// usually such DATA: it shares the HEADERS' TLS record but is parsed by
// the goroutine that reads on once the handler has started, and kept
// until the upload's goroutine was scheduled, the echo's first byte
// waited for it.
func TestDeliverOpensTheDirectPath(t *testing.T) {
	checkGoroutines(t)
	up := startUpstream(t, false)
	delivered := make(chan struct{})
	gotEarly := make(chan []byte, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tn := w.(tunnel)
		conn, err := net.Dial("tcp", up.addr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer conn.Close()
		tn.Deliver(conn, nil)
		close(delivered)
		// No UploadTo yet: only the frame reader can bring the byte.
		var b []byte
		select {
		case b = <-gotEarly:
		case <-time.After(wait):
		}
		if len(b) == 0 {
			return
		}
		done := make(chan struct{})
		go func() {
			_, _ = tn.UploadTo(conn, nil)
			conn.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		w.WriteHeader(http.StatusOK)
		_, _ = tn.DownloadFrom(conn, nil)
		r.Body.Close()
		<-done
	})
	ts := startServer(t, h2srv.Config{Handler: handler}, false)
	rc := dialRaw(t, ts, rawOpts{})
	if err := rc.headers(1, false, connect("upstream:1")...); err != nil {
		t.Fatal(err)
	}
	select {
	case <-delivered:
	case <-time.After(wait):
		t.Fatal("the handler never called Deliver")
	}
	if err := rc.data(1, []byte("x"), false); err != nil {
		t.Fatal(err)
	}
	u := up.accept(t)
	_ = u.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1)
	n, err := u.Read(b)
	gotEarly <- b[:n]
	if err != nil || string(b[:n]) != "x" {
		t.Fatalf("upstream read %q, %v before any UploadTo; want the DATA written by the frame reader", b[:n], err)
	}
	// The rest of the tunnel still works: an echo and the ends.
	if _, err := u.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := rc.data(1, nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(u); err != nil {
		t.Fatal(err)
	}
	u.Close()
	r := rc.response(1)
	if r.reset || r.status != "200" || string(r.body) != "y" {
		t.Fatalf("response: status %q reset %v body %q; want 200 and y", r.status, r.reset, r.body)
	}
	rc.close()
	ts.waitEnded(t, 1)
}
