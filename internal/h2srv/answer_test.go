package h2srv_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// writeLog keeps a copy of every write to the connection under it.
type writeLog struct {
	*tls.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, bytes.Clone(p))
	w.mu.Unlock()
	return w.Conn.Write(p)
}

// headerWithData reports whether one write carried stream id's HEADERS
// and, right behind them, a DATA frame of it with payload want.
func (w *writeLog) headerWithData(id uint32, want string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.writes {
		fr := http2.NewFramer(nil, bytes.NewReader(b))
		fr.SetMaxReadFrameSize(1<<24 - 1)
		headers := false
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				break
			}
			switch f := f.(type) {
			case *http2.HeadersFrame:
				headers = f.StreamID == id
			case *http2.DataFrame:
				if headers && f.StreamID == id && string(f.Data()) == want {
					return true
				}
				headers = false
			default:
				headers = false
			}
		}
	}
	return false
}

// TestAnswerWithFirstBytes: a tunnel whose client sent data before the
// answer gets its 200 in the same write as the upstream's first bytes
// (the client is not waiting for it to send more, and the first byte back
// then costs one write and one read, not two); without early data, or
// with an upstream that stays silent, the 200 goes at once or after
// AnswerHold.
func TestAnswerWithFirstBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early bool          // the client sends "ping" before the answer
		hold  time.Duration // Config.AnswerHold
		reply bool          // the upstream answers before the client has the 200
	}{
		{name: "early data, upstream answers", early: true, hold: time.Minute, reply: true},
		{name: "early data, upstream silent", early: true, hold: time.Millisecond},
		{name: "no early data", hold: time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			up := startUpstream(t, false)
			heard := make(chan struct{}) // the upstream has the early bytes
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tn := w.(tunnel)
				conn, err := net.Dial("tcp", up.addr)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				defer conn.Close()
				tn.Deliver(conn, nil)
				if tc.early {
					select {
					case <-heard:
					case <-time.After(wait):
						return
					}
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
			logs := make(chan *writeLog, 1)
			ts := startServerWith(t, h2srv.Config{Handler: handler, AnswerHold: tc.hold}, false, func(c *tls.Conn) net.Conn {
				wl := &writeLog{Conn: c}
				logs <- wl
				return wl
			})
			rc := dialRaw(t, ts, rawOpts{})
			if err := rc.headers(1, false, connect("upstream:1")...); err != nil {
				t.Fatal(err)
			}
			if tc.early {
				if err := rc.data(1, []byte("ping"), false); err != nil {
					t.Fatal(err)
				}
			}
			u := up.accept(t)
			t.Cleanup(func() { u.Close() }) // first: the handler then ends on a failed check
			_ = u.SetDeadline(time.Now().Add(wait))
			if tc.early {
				b := make([]byte, 4)
				if _, err := io.ReadFull(u, b); err != nil || string(b) != "ping" {
					t.Fatalf("upstream read %q, %v; want the early ping", b, err)
				}
				close(heard)
			}
			if tc.reply {
				if _, err := u.Write([]byte("pong")); err != nil {
					t.Fatal(err)
				}
			}
			h := rc.expect("the answer", isType(http2.FrameHeaders, 1))
			if h.field(":status") != "200" {
				t.Fatalf("answer %v; want 200", h)
			}
			if !tc.reply {
				// The upstream has said nothing yet: the answer came alone.
				if _, err := u.Write([]byte("pong")); err != nil {
					t.Fatal(err)
				}
			}
			d := rc.expect("the upstream's bytes", isType(http2.FrameData, 1))
			if string(d.Data) != "pong" {
				t.Fatalf("DATA %q; want pong", d.Data)
			}
			if got := (<-logs).headerWithData(1, "pong"); got != tc.reply {
				t.Fatalf("200 and the first DATA in one write: %v; want %v", got, tc.reply)
			}
			// More bytes and the client's end reach the upstream.
			if err := rc.data(1, []byte("more"), true); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(u)
			if err != nil || string(rest) != "more" {
				t.Fatalf("upstream read %q, %v after the answer; want more, then the end", rest, err)
			}
			u.Close()
			r := rc.response(1)
			if r.reset {
				t.Fatalf("stream reset: %+v", r)
			}
			rc.close()
			ts.waitEnded(t, 1)
		})
	}
}
