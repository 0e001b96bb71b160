package gui

import (
	"bufio"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// TestConnectThroughProxy drives the switch against a small real CONNECT
// proxy over TLS (the real tunnel package, no sign-in): bytes go through
// the local port and come back, the status counts the open connection,
// and a refused CONNECT shows as an error.
func TestConnectThroughProxy(t *testing.T) {
	var connects atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "echo.internal:7000" {
			http.Error(w, "no such route", http.StatusNotFound)
			return
		}
		connects.Add(1)
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
		_, _ = io.Copy(c, bufio.NewReader(rw)) // echo
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	proxy := srv.Listener.Addr().String()
	f := newFixture(t, []connections.Connection{
		{Name: "echo", Destination: "tcp+https://" + proxy + "/echo.internal:7000", TLS: tlsconfig.Options{CAFile: ca}},
		{Name: "nowhere", Destination: "tcp+https://" + proxy + "/nowhere.internal:1", TLS: tlsconfig.Options{CAFile: ca}},
	})

	r := f.row("echo")
	defer func() {
		if t.Failed() {
			t.Logf("echo status %q, log %v", r.status.Text, f.ctrl.Log(f.byName("echo").ID))
		}
	}()
	_, addr := f.switchOn("echo")
	conn := f.dialEcho("echo", addr, []byte("ping through the switch"))
	f.eventually("1 active", func() bool { return strings.HasPrefix(r.status.Text, "1 active") })

	// Editing a running connection restarts it with the new settings.
	f.w.selectConn(f.byName("echo").ID)
	test.Tap(f.w.detail.editBtn)
	f.w.form.listen.SetText(testutil.FreeAddr(t))
	want := f.w.form.listen.Text
	test.Tap(f.w.form.save)
	f.eventually("restarted on the new port", func() bool { return rowListening(r, want) })
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("old connection: got data; want it closed by the restart")
	}
	addr = want
	conn.Close()
	f.eventually("listening again", func() bool { return rowListening(r, addr) })
	test.Tap(r.toggle)
	f.eventually("off", func() bool { return r.status.Text == "off" })
	if connects.Load() != 1 {
		t.Errorf("CONNECTs: got %d; want 1", connects.Load())
	}

	nr := f.row("nowhere")
	test.Tap(nr.toggle)
	var naddr string
	f.eventually("nowhere listening", func() bool {
		naddr = f.ctrl.State(f.byName("nowhere").ID).Addr
		return naddr != ""
	})
	// The refused CONNECT resets the local connection (tunnel: a tunnel
	// that never opens ends with RST), which can land before the dial
	// returns.
	c2, err := net.DialTimeout("tcp", naddr, 30*time.Second)
	switch {
	case errors.Is(err, syscall.ECONNRESET):
	case err != nil:
		t.Fatal(err)
	default:
		defer c2.Close()
	}
	f.eventually("error status for the refused CONNECT", func() bool {
		return len(nr.status.Text) > 7 && nr.status.Text[:7] == "error: "
	})
	t.Logf("refused: %s", nr.status.Text)
	if n := f.notification("Connection failed: nowhere"); n == nil || n.Title != "Connection failed: nowhere" {
		t.Errorf("notification: got %+v", n)
	}
}
