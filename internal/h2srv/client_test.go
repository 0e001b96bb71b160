package h2srv_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/h2srv"
)

// TestClient runs x/net's HTTP/2 client against the server.
func TestClient(t *testing.T) {
	big := make([]byte, 6<<20+12345)
	rand.Read(big)

	tests := []struct {
		name    string
		cfg     h2srv.Config
		handler http.HandlerFunc
		run     func(t *testing.T, c *http.Client, ts *testServer)
	}{{
		name: "GET sees the request",
		handler: func(w http.ResponseWriter, r *http.Request) {
			_, local := r.Context().Value(http.LocalAddrContextKey).(interface{ String() string })
			fmt.Fprintf(w, "%s %s %s %s q=%s tls=%v remote=%v local=%v cl=%d", r.Method, r.Proto, r.Host, r.URL.Path,
				r.URL.Query().Get("q"), r.TLS != nil, r.RemoteAddr != "", local, r.ContentLength)
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			resp := get(t, c, ts.url("/a/b?q=1"))
			want := "GET HTTP/2.0 " + ts.addr + " /a/b q=1 tls=true remote=true local=true cl=0"
			if resp.body != want || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, resp.body, want)
			}
		},
	}, {
		name: "POST body streams both ways",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			rc := http.NewResponseController(w)
			rc.Flush() // the client waits for the header before it sends
			buf := make([]byte, 1024)
			for {
				n, err := r.Body.Read(buf)
				w.Write(buf[:n])
				rc.Flush()
				if err != nil {
					return
				}
			}
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			pr, pw := io.Pipe()
			defer pw.Close()
			req, _ := http.NewRequest(http.MethodPost, ts.url("/echo"), pr)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// Each piece comes back before the next is sent: nothing
			// waits for the whole body.
			for i := range 5 {
				piece := []byte(strings.Repeat(fmt.Sprint(i), 100))
				if _, err := pw.Write(piece); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(piece))
				if _, err := io.ReadFull(resp.Body, got); err != nil || !bytes.Equal(got, piece) {
					t.Fatalf("piece %d: %q, %v", i, got, err)
				}
			}
			pw.Close()
			if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 0 {
				t.Errorf("after the body: %q, %v", rest, err)
			}
		},
	}, {
		name: "several MiB up and back past the windows",
		cfg:  h2srv.Config{StreamWindow: 256 << 10, ConnWindow: 512 << 10},
		handler: func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				w.Write(big)
				return
			}
			got, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			sum := sha256.Sum256(got)
			w.Header().Set("X-Sum", fmt.Sprintf("%x", sum))
			w.Write(got)
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			want := fmt.Sprintf("%x", sha256.Sum256(big))
			resp := get(t, c, ts.url("/big"))
			if got := fmt.Sprintf("%x", sha256.Sum256([]byte(resp.body))); got != want || len(resp.body) != len(big) {
				t.Errorf("download: %d bytes, sum %s", len(resp.body), got)
			}
			r, err := c.Post(ts.url("/big"), "application/octet-stream", bytes.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if r.Header.Get("X-Sum") != want || fmt.Sprintf("%x", sha256.Sum256(back)) != want {
				t.Errorf("upload: server saw %s, echoed %d bytes", r.Header.Get("X-Sum"), len(back))
			}
		},
	}, {
		name: "HEAD has no body",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			if n, err := io.WriteString(w, "hello"); n != 5 || err != nil {
				w.Header().Set("X-Err", "write")
			}
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			req, _ := http.NewRequest(http.MethodHead, ts.url("/"), nil)
			resp := do(t, c, req)
			if resp.StatusCode != 200 || resp.body != "" || resp.ContentLength != 5 {
				t.Errorf("got %d %q length %d", resp.StatusCode, resp.body, resp.ContentLength)
			}
		},
	}, {
		name: "204 refuses a body",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic(fmt.Sprintf("Write on a 204: %v", err))
			}
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			resp := get(t, c, ts.url("/"))
			if resp.StatusCode != http.StatusNoContent || resp.body != "" || resp.Header.Get("Content-Type") != "" {
				t.Errorf("got %d %q %v", resp.StatusCode, resp.body, resp.Header)
			}
		},
	}, {
		name: "trailers declared and prefixed",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Declared")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "body")
			w.Header().Set("X-Declared", "d")
			w.Header().Set(http.TrailerPrefix+"X-Late", "l")
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			resp := get(t, c, ts.url("/"))
			if resp.body != "body" || resp.Trailer.Get("X-Declared") != "d" || resp.Trailer.Get("X-Late") != "l" {
				t.Errorf("got %q trailers %v", resp.body, resp.Trailer)
			}
			if resp.Header.Get("X-Declared") != "" || resp.Header.Get(http.TrailerPrefix+"X-Late") != "" {
				t.Errorf("trailers in the header: %v", resp.Header)
			}
		},
	}, {
		name: "trailers without a body",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(http.TrailerPrefix+"X-Only", "o")
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			resp := get(t, c, ts.url("/"))
			if resp.body != "" || resp.Trailer.Get("X-Only") != "o" {
				t.Errorf("got %q trailers %v", resp.body, resp.Trailer)
			}
		},
	}, {
		name: "Content-Type sniffed and Date set",
		handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/nosniff" {
				w.Header().Set("X-Content-Type-Options", "nosniff")
			}
			io.WriteString(w, "<html><body>hi</body></html>")
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			resp := get(t, c, ts.url("/"))
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || time.Since(d) > time.Hour {
				t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
			}
			if ct := get(t, c, ts.url("/nosniff")).Header.Get("Content-Type"); ct != "" {
				t.Errorf("nosniff: Content-Type %q", ct)
			}
		},
	}, {
		name: "a header block larger than a frame",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Big", strings.Repeat("b", 40<<10))
			io.WriteString(w, "ok")
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			resp := get(t, c, ts.url("/"))
			if len(resp.Header.Get("X-Big")) != 40<<10 || resp.body != "ok" {
				t.Errorf("got %d header bytes, %q", len(resp.Header.Get("X-Big")), resp.body)
			}
		},
	}, {
		name: "Cookie fields joined",
		handler: func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%q", r.Header["Cookie"])
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			req, _ := http.NewRequest(http.MethodGet, ts.url("/"), nil)
			req.Header.Add("Cookie", "a=1; b=2")
			req.Header.Add("Cookie", "c=3")
			if got := do(t, c, req).body; got != `["a=1; b=2; c=3"]` {
				t.Errorf("handler saw %s", got)
			}
		},
	}, {
		name: "informational response before the final one",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "final")
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			var got []int
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				got = append(got, code)
				return nil
			}}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, ts.url("/"), nil)
			resp := do(t, c, req)
			if len(got) != 1 || got[0] != http.StatusEarlyHints || resp.StatusCode != 200 || resp.body != "final" {
				t.Errorf("1xx %v, then %d %q", got, resp.StatusCode, resp.body)
			}
		},
	}, {
		name: "a panic resets its stream only",
		handler: func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/panic":
				panic("boom")
			case "/abort":
				io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			}
			io.WriteString(w, "fine")
		},
		run: func(t *testing.T, c *http.Client, ts *testServer) {
			for _, path := range []string{"/panic", "/abort"} {
				resp, err := c.Get(ts.url(path))
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				var se http2.StreamError
				if !errors.As(err, &se) || se.Code != http2.ErrCodeInternal {
					t.Errorf("%s: %v, want a stream error INTERNAL_ERROR", path, err)
				}
				if got := get(t, c, ts.url("/")).body; got != "fine" {
					t.Errorf("after %s: %q", path, got)
				}
			}
			if n := ts.own.Load(); n != 1 {
				t.Errorf("%d connections, want the one", n)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			cfg := tt.cfg
			cfg.Handler = tt.handler
			ts := startServer(t, cfg, false)
			c, _ := ts.client(t)
			tt.run(t, c, ts)
		})
	}
}

type result struct {
	*http.Response
	body string
}

func do(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{resp, string(b)}
}

func get(t *testing.T, c *http.Client, url string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return do(t, c, req)
}

// TestConcurrentStreams sends many more requests than the server takes at
// once: every one completes. (x/net's client opens more connections for
// the rest; its strict mode stalls on its own, in x/net.)
func TestConcurrentStreams(t *testing.T) {
	checkGoroutines(t)
	const limit, total = 4, 40
	// Per connection (the client's address): the limit is each one's.
	var mu sync.Mutex
	inFlight, most := map[string]int{}, 0
	// The first two wait for each other: streams do run side by side.
	const together = 2
	var arrived sync.WaitGroup
	arrived.Add(together)
	gate := make(chan struct{})
	var once sync.Once
	var count atomic.Int32
	ts := startServer(t, h2srv.Config{MaxConcurrentStreams: limit, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight[r.RemoteAddr]++
		most = max(most, inFlight[r.RemoteAddr])
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight[r.RemoteAddr]--
			mu.Unlock()
		}()
		if r.URL.Path != "/first" && count.Add(1) <= together {
			arrived.Done()
			once.Do(func() { go func() { arrived.Wait(); close(gate) }() })
			<-gate
		}
		io.WriteString(w, r.URL.Path)
	})}, false)
	c, _ := ts.client(t)
	// One request first: the client knows the limit before the rest (it
	// would send them all, and retry the refused ones after a backoff).
	if got := get(t, c, ts.url("/first")).body; got != "/first" {
		t.Fatalf("first request: %q", got)
	}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i := range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/%d", i)
			resp, err := c.Get(ts.url(path))
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != path {
				errs <- fmt.Errorf("%s: %q, %v", path, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if most < together || most > limit {
		t.Errorf("at most %d handlers at once on a connection, want %d to %d", most, together, limit)
	}
}

// TestClientCancel: a client that gives up on a request cancels the
// handler's context, and the connection goes on.
func TestClientCancel(t *testing.T) {
	checkGoroutines(t)
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	ts := startServer(t, h2srv.Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wait" {
			io.WriteString(w, "ok")
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-r.Context().Done():
			cancelled <- r.Context().Err()
		case <-time.After(wait):
			cancelled <- errors.New("never cancelled")
		}
	})}, false)
	c, _ := ts.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.url("/wait"), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	resp.Body.Close()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("handler's context: %v", err)
	}
	if got := get(t, c, ts.url("/")).body; got != "ok" {
		t.Errorf("next request: %q", got)
	}
}

// TestDeadlines: a deadline set through http.ResponseController resets
// the stream when it passes, and lifting one deadline leaves the other.
func TestDeadlines(t *testing.T) {
	tests := []struct {
		name string
		set  func(rc *http.ResponseController) error
	}{
		{"write deadline", func(rc *http.ResponseController) error {
			return rc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		}},
		{"read deadline", func(rc *http.ResponseController) error {
			return rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		}},
		{"read deadline kept when the write deadline is lifted", func(rc *http.ResponseController) error {
			if err := rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
				return err
			}
			return rc.SetWriteDeadline(time.Time{})
		}},
		{"write deadline kept when the read deadline is lifted", func(rc *http.ResponseController) error {
			if err := rc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
				return err
			}
			return rc.SetReadDeadline(time.Time{})
		}},
		{"a deadline in the past", func(rc *http.ResponseController) error {
			return rc.SetWriteDeadline(time.Now().Add(-time.Second))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			handlerErr := make(chan error, 1)
			ts := startServer(t, h2srv.Config{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/ok" {
					io.WriteString(w, "ok")
					return
				}
				if err := tt.set(http.NewResponseController(w)); err != nil {
					handlerErr <- err
					return
				}
				// The body never ends: only the deadline ends the stream.
				_, err := io.ReadAll(r.Body)
				<-r.Context().Done()
				handlerErr <- err
			})}, false)
			c, _ := ts.client(t)
			pr, pw := io.Pipe()
			defer pw.Close()
			req, _ := http.NewRequest(http.MethodPost, ts.url("/"), pr)
			resp, err := c.Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			var se http2.StreamError
			if !errors.As(err, &se) {
				t.Errorf("client: %v, want a stream error", err)
			}
			select {
			case err := <-handlerErr:
				if err == nil {
					t.Error("the handler's body read ended without an error")
				}
			case <-time.After(wait):
				t.Fatal("the handler was not stopped")
			}
			if got := get(t, c, ts.url("/ok")).body; got != "ok" {
				t.Errorf("next request: %q", got)
			}
		})
	}
}

// TestStreamTimeout: Config.StreamTimeout ends a request whose handler
// does not lift it, and not one that does.
func TestStreamTimeout(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, h2srv.Config{StreamTimeout: 100 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/lifted" {
			rc := http.NewResponseController(w)
			rc.SetReadDeadline(time.Time{})
			rc.SetWriteDeadline(time.Time{})
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		// Wait well past the timeout, or until the stream is gone.
		select {
		case <-r.Context().Done():
		case <-time.After(400 * time.Millisecond):
			io.WriteString(w, "survived")
		}
	})}, false)
	c, _ := ts.client(t)
	resp, err := c.Get(ts.url("/bounded"))
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("a request past StreamTimeout completed")
	}
	if got := get(t, c, ts.url("/lifted")).body; got != "survived" {
		t.Errorf("with the deadlines lifted: %q", got)
	}
}
