package h2srv_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// held answers "/" at once and "/hold" once release is closed.
func held(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "done "+r.URL.Path)
	})
}

// TestShutdown: GOAWAY goes out at once, a new stream is refused, the
// open one still finishes, and then the connection closes.
func TestShutdown(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	ts := startServer(t, h2srv.Config{Handler: held(release)}, false)
	rc := dialRaw(t, ts, rawOpts{})
	rc.headers(1, true, request("GET", "/hold")...)
	alive(t, rc) // the server read the HEADERS before the PING: stream 1 is open
	ts.srv.Shutdown()
	away := rc.expect("GOAWAY", isType(http2.FrameGoAway, 0))
	if away.Code != http2.ErrCodeNo || away.LastID != 1 {
		t.Errorf("got %v, want GOAWAY last=1 NO_ERROR", away)
	}
	rc.headers(3, true, request("GET", "/")...)
	if r := rc.response(3); !r.reset || r.code != http2.ErrCodeRefusedStream {
		t.Errorf("a stream after GOAWAY: %+v", r)
	}
	close(release)
	if r := rc.response(1); string(r.body) != "done /hold" {
		t.Errorf("the open stream: %+v", r)
	}
	rc.expectClosed()
	ts.waitEnded(t, 1)
}

// TestShutdownBeforeStart: a connection that starts after Shutdown closes
// without a frame before the server's SETTINGS.
func TestShutdownBeforeStart(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{Handler: held(nil)}, false)
	ts.srv.Shutdown()
	rc := dialRaw(t, ts, rawOpts{})
	if f, ok := rc.next(); ok && f.Type != http2.FrameSettings {
		t.Errorf("first frame %v, want SETTINGS", f)
	}
	rc.expectClosed()
	ts.waitEnded(t, 1)
}

// TestIdleTimeout: a connection without streams closes after IdleTimeout;
// one with a stream open does not.
func TestIdleTimeout(t *testing.T) {
	checkGoroutines(t)
	const idle = 100 * time.Millisecond
	release := make(chan struct{})
	ts := startServer(t, h2srv.Config{IdleTimeout: idle, Handler: held(release)}, false)

	rc := dialRaw(t, ts, rawOpts{})
	away := rc.expectClosed()
	if away.Type != http2.FrameGoAway || away.Code != http2.ErrCodeNo {
		t.Errorf("idle: got %v, want GOAWAY NO_ERROR", away)
	}
	ts.waitEnded(t, 1)

	rc = dialRaw(t, ts, rawOpts{})
	rc.headers(1, true, request("GET", "/hold")...)
	quiet := time.After(5 * idle)
	for waiting := true; waiting; {
		select {
		case f := <-rc.frames:
			if f.Type == http2.FrameGoAway {
				t.Fatalf("with a stream open: %v", f)
			}
		case <-rc.done:
			t.Fatal("closed with a stream open")
		case <-quiet:
			waiting = false
		}
	}
	close(release)
	if r := rc.response(1); string(r.body) != "done /hold" {
		t.Errorf("the stream: %+v", r)
	}
	if away := rc.expectClosed(); away.Type != http2.FrameGoAway {
		t.Errorf("idle after the stream: got %v", away)
	}
	ts.waitEnded(t, 1)
}

// TestPingTimeout: after PingAfter without a frame the server PINGs, and
// drops a client that does not answer within PingTimeout; one that
// answers stays.
func TestPingTimeout(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{PingAfter: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond, Handler: held(nil)}, false)

	rc := dialRaw(t, ts, rawOpts{noPingAck: true})
	rc.expect("a PING", func(f frame) bool { return f.Type == http2.FramePing && !f.Flags.Has(http2.FlagPingAck) })
	rc.expectClosed()
	ts.waitEnded(t, 1)

	rc = dialRaw(t, ts, rawOpts{})
	for range 3 {
		rc.expect("a PING", func(f frame) bool { return f.Type == http2.FramePing && !f.Flags.Has(http2.FlagPingAck) })
	}
	alive(t, rc)
}

// TestPrefaceTimeout: a client that sends nothing after the TLS handshake
// is dropped.
func TestPrefaceTimeout(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{IdleTimeout: 100 * time.Millisecond, Handler: held(nil)}, false)
	nc, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ts.waitEnded(t, 1)
}
