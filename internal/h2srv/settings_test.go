package h2srv_test

import (
	"bytes"
	"net/http"
	"testing"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// TestClientSettings: the server keeps to what the client's SETTINGS
// allow.
func TestClientSettings(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10000)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Same", "the same value every time")
		w.Write(body)
	})

	t.Run("a window of 0, opened later", func(t *testing.T) {
		checkGoroutines(t)
		ts := startServer(t, h2srv.Config{Handler: handler}, false)
		rc := dialRaw(t, ts, rawOpts{settings: []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 0}}})
		rc.headers(1, true, request("GET", "/")...)
		rc.expect("the response header", isType(http2.FrameHeaders, 1))
		alive(t, rc)
		for len(rc.frames) > 0 {
			if f, _ := rc.next(); f.Type == http2.FrameData && len(f.Data) > 0 {
				t.Fatalf("DATA with a window of 0: %v", f)
			}
		}
		rc.write(func(fr *http2.Framer) error {
			return fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1000})
		})
		r := rc.response(1)
		if !bytes.Equal(r.body, body) {
			t.Errorf("got %d bytes, want %d", len(r.body), len(body))
		}
	})

	t.Run("frames within the client's MAX_FRAME_SIZE", func(t *testing.T) {
		checkGoroutines(t)
		ts := startServer(t, h2srv.Config{Handler: handler}, false)
		rc := dialRaw(t, ts, rawOpts{settings: []http2.Setting{{ID: http2.SettingMaxFrameSize, Val: 16 << 10}}})
		rc.headers(1, true, request("GET", "/")...)
		var got []byte
		for {
			f := rc.expect("DATA", isType(http2.FrameData, 1))
			if len(f.Data) > 16<<10 {
				t.Fatalf("a %d byte frame", len(f.Data))
			}
			got = append(got, f.Data...)
			if f.endStream() {
				break
			}
		}
		if !bytes.Equal(got, body) {
			t.Errorf("got %d bytes", len(got))
		}
	})

	t.Run("no HPACK dynamic table", func(t *testing.T) {
		checkGoroutines(t)
		ts := startServer(t, h2srv.Config{Handler: handler}, false)
		zero := uint32(0)
		rc := dialRaw(t, ts, rawOpts{tableSize: &zero, settings: []http2.Setting{{ID: http2.SettingHeaderTableSize, Val: 0}}})
		rc.serverSettings()
		rc.expect("the SETTINGS ACK", func(f frame) bool {
			return f.Type == http2.FrameSettings && f.Flags.Has(http2.FlagSettingsAck)
		})
		for id := uint32(1); id < 8; id += 2 {
			rc.headers(id, true, request("GET", "/")...)
			if r := rc.response(id); r.header.field("x-same") == "" {
				t.Fatalf("response %d: %+v", id, r.header)
			}
		}
	})
}
