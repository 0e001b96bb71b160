package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestWebSocketInChromium: a page behind an http route opens a
// WebSocket to its own host in headless Chromium and gets its message
// echoed, now that the server offers HTTP/2 extended CONNECT (which
// Chromium uses for WebSockets when offered) for connect-udp.
func TestWebSocketInChromium(t *testing.T) {
	chromium := testutil.Require(t, "chromium")
	var upgrades atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><body><p id="r">waiting</p><script>
const ws = new WebSocket("wss://" + location.host + "/ws");
ws.onopen = () => ws.send("hello over a websocket");
ws.onmessage = (e) => { fetch("/done?m=" + encodeURIComponent("echo:" + e.data)); };
ws.onerror = () => { fetch("/done?m=error"); };
</script></body></html>`)
	})
	// The page reports what it saw to /done: the test waits for that
	// report rather than for a DOM dump, which Chromium may take before a
	// WebSocket (not counted as pending network) has answered.
	done := make(chan string, 4)
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		select {
		case done <- r.URL.Query().Get("m"):
		default:
		}
	})
	mux.Handle("/ws", websocket.Server{Handler: func(c *websocket.Conn) {
		upgrades.Add(1)
		io.Copy(c, c)
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	d := testutil.StartDevServer(t, testutil.WithConfig(`
routes:
  - from: https://wspage.localhost
    to: http://`+ln.Addr().String()+`
    allow_public_unauthenticated_access: true
    allow_websockets: true
`))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	page := "https://wspage.localhost:" + d.URL.Port() + "/"
	// --remote-debugging-port keeps headless Chromium running on the page
	// until the test is done with it.
	cmd := exec.CommandContext(ctx, chromium, append(chromiumArgs(t, d), "--remote-debugging-port=0", page)...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { cancel(); <-exited }()
	select {
	case got := <-done:
		if got != "echo:hello over a websocket" {
			t.Errorf("page reported %q; want the echo (upgrades seen upstream: %d)", got, upgrades.Load())
		}
	case err := <-exited:
		t.Fatalf("chromium exited before the page reported: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no report from the page in 2m (upgrades seen upstream: %d)", upgrades.Load())
	}
}
