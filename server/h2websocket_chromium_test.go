package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
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
ws.onmessage = (e) => { document.getElementById("r").textContent = "echo:" + e.data; };
ws.onerror = () => { document.getElementById("r").textContent = "error"; };
</script></body></html>`)
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	page := "https://wspage.localhost:" + d.URL.Port() + "/"
	dom, err := exec.CommandContext(ctx, chromium, append(chromiumArgs(t, d), "--virtual-time-budget=15000", "--dump-dom", page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	if !strings.Contains(string(dom), "echo:hello over a websocket") {
		t.Errorf("page after the websocket: %s; want the echo (upgrades seen upstream: %d)", dom, upgrades.Load())
	}
}
