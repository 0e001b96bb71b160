package gui

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// inspectNow is what the inspection socket would answer for f's window.
func (f *fixture) inspectNow() InspectTree {
	f.q.drain()
	return Inspect(f.w.win.Canvas(), f.w.win.Title(), f.app.Driver().AbsolutePositionForObject)
}

// findNode is the first node matching every non-zero field of want
// (Text by prefix).
func findNode(tr InspectTree, want InspectNode) (InspectNode, bool) {
	for _, n := range tr.Nodes {
		if (want.Type == "" || n.Type == want.Type) && strings.HasPrefix(n.Text, want.Text) &&
			(want.Row == "" || n.Row == want.Row) && (want.FormLabel == "" || n.FormLabel == want.FormLabel) &&
			(want.Layer == 0 || n.Layer == want.Layer) {
			return n, true
		}
	}
	return InspectNode{}, false
}

func TestInspectStates(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		f := newFixture(t, nil)
		tr := f.inspectNow()
		if tr.Title != WindowTitle || tr.W < 800 || tr.Scale <= 0 {
			t.Errorf("tree header: got %q %vx%v scale %v; want the Porthole window", tr.Title, tr.W, tr.H, tr.Scale)
		}
		n, ok := findNode(tr, InspectNode{Type: "label", Text: "No connections yet."})
		if !ok || !n.Onscreen || n.W <= 0 || n.H <= 0 || n.X < 0 || n.X+n.W > tr.W+1 {
			t.Errorf("empty-state label: got %+v (found %v); want it on screen", n, ok)
		}
		for _, b := range []string{"Add connection", "Import from portal"} {
			if _, ok := findNode(tr, InspectNode{Type: "button", Text: b}); !ok {
				t.Errorf("no %q button in %+v", b, tr.Nodes)
			}
		}
		if n, ok := findNode(tr, InspectNode{Type: "button", Text: "Connect all"}); !ok || !n.Disabled {
			t.Errorf("Connect all: got %+v; want it there and disabled", n)
		}
	})
	t.Run("rows and add form", func(t *testing.T) {
		f := newFixture(t, []connections.Connection{
			{Name: "echo", Destination: "tcp+https://proxy.example.com/echo:7000", Tags: []string{"dev", "admin"}},
			{Name: "db", Destination: "tcp+https://proxy.example.com/db:5432"},
		})
		tr := f.inspectNow()
		for _, tag := range []string{"dev", "admin"} {
			if n, ok := findNode(tr, InspectNode{Type: "text", Row: "echo", Text: tag}); !ok || n.Text != tag || !n.Onscreen {
				t.Errorf("echo's tag %s: got %+v; want a chip in its row", tag, n)
			}
		}
		if n, ok := findNode(tr, InspectNode{Type: "check", Row: "db"}); !ok || n.Checked {
			t.Errorf("db's switch: got %+v; want it off", n)
		}
		if _, ok := findNode(tr, InspectNode{Type: "label", Text: "No connections yet."}); ok {
			t.Errorf("the empty state shows beside connections")
		}

		test.Tap(f.w.addBtn)
		tr = f.inspectNow()
		if _, ok := findNode(tr, InspectNode{Type: "label", Text: "Add connection", Layer: 1}); !ok {
			t.Fatalf("no Add connection dialog title on layer 1: %+v", tr.Nodes)
		}
		if n, ok := findNode(tr, InspectNode{Type: "entry", FormLabel: "Name", Layer: 1}); !ok || !n.Focused {
			t.Errorf("Name entry: got %+v; want it focused", n)
		}
		acc, ok := findNode(tr, InspectNode{Type: "accordion", Layer: 1})
		if !ok || len(acc.Open) != 1 || acc.Open[0] || !strings.HasPrefix(acc.Items[0], "Advanced") {
			t.Errorf("Advanced: got %+v; want one folded Advanced item", acc)
		}
		if n, ok := findNode(tr, InspectNode{FormLabel: "CA file"}); ok {
			t.Errorf("CA file shows with Advanced folded: %+v", n)
		}
		f.w.form.advanced.Open(0)
		if _, ok := findNode(f.inspectNow(), InspectNode{Type: "entry", FormLabel: "CA file"}); !ok {
			t.Errorf("CA file entry missing with Advanced open")
		}
	})
}

// routesFetcher answers with fixed routes (the Xvfb test uses the dev
// server's real portal).
type routesFetcher []portalclient.Route

func (r routesFetcher) Routes(context.Context, *url.URL, tlsconfig.Options, func(string)) ([]portalclient.Route, error) {
	return r, nil
}

// TestInspectImportConnectedError: the same states as the Xvfb test
// with the Fyne test driver: the import dialog with routes and tags, a
// connection with a client, one whose server's CA is not trusted.
func TestInspectImportConnectedError(t *testing.T) {
	fl := &fakeListens{}
	routes := routesFetcher{
		{ID: "1", Name: "echo", Type: "tcp", From: "tcp+https://proxy.example.com/echo.internal:7000"},
		{ID: "2", Name: "db", Type: "tcp", From: "tcp+https://proxy.example.com/db.internal:5432"},
		{ID: "3", Name: "web", Type: "http", From: "https://web.example.com"},
	}
	f := newFixture(t, nil, fl.opt(), func(_ *Controller, o *Options) { o.Portal = routes })

	test.Tap(f.w.emptyPortalBtn)
	p := f.w.importer
	test.Type(p.portalURL, "https://proxy.example.com")
	test.Type(p.tags, "dev, demo")
	test.Tap(p.fetchBtn)
	f.eventually("routes listed", func() bool { return len(p.routeChecks) == 2 })
	tr := f.inspectNow()
	for _, want := range []InspectNode{
		{Type: "check", Text: "echo  —  tcp+https://proxy.example.com/echo.internal:7000", Layer: 1},
		{Type: "check", Text: "db  —  ", Layer: 1},
		{Type: "label", Text: "Add 2, update 0", Layer: 1},
		{Type: "entry", FormLabel: "Tags", Text: "dev, demo", Layer: 1},
	} {
		if n, ok := findNode(tr, want); !ok || !n.Onscreen || want.Type == "check" && !n.Checked {
			t.Errorf("import dialog: got %+v (found %v); want %+v on screen", n, ok, want)
		}
	}
	if _, ok := findNode(tr, InspectNode{Type: "check", Text: "web"}); ok {
		t.Errorf("an http route is offered for import")
	}
	test.Tap(p.importBtn)
	f.q.drain()

	test.Tap(f.row("echo").toggle)
	test.Tap(f.row("db").toggle)
	var echo, db *fakeListener
	f.eventually("two listeners", func() bool {
		echo, db = fl.get("echo.internal:7000"), fl.get("db.internal:5432")
		return echo != nil && db != nil
	})
	echo.emit(tunnel.Event{Kind: tunnel.EventConnected, ConnID: 1})
	db.emit(tunnel.Event{Kind: tunnel.EventError, ConnID: 1, Err: fmt.Errorf("dialing proxy: %w",
		&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})})
	f.w.selectConn(f.byName("db").ID)
	tr = f.inspectNow()
	for _, tag := range []string{"dev", "demo"} {
		if _, ok := findNode(tr, InspectNode{Type: "text", Text: tag, Row: "echo"}); !ok {
			t.Errorf("echo: no %s chip", tag)
		}
	}
	if n, ok := findNode(tr, InspectNode{Type: "label", Text: "1 active", Row: "echo"}); !ok || n.Importance != "success" {
		t.Errorf("echo's status: got %+v; want 1 active", n)
	}
	n, ok := findNode(tr, InspectNode{Type: "label", Text: "error: the server's certificate is not trusted", Row: "db"})
	if !ok || n.Importance != "danger" {
		t.Errorf("db's status: got %+v; want the plain-words error in red", n)
	}
	fix := false
	for _, n := range tr.Nodes {
		fix = fix || n.Row == "" && strings.Contains(n.Text, "add its CA")
		if strings.Contains(n.Text, "x509") {
			t.Errorf("raw error shown unfolded: %+v", n)
		}
	}
	if !fix {
		t.Errorf("no fix (\"add its CA\") in the detail pane:\n%s", tr.summary())
	}
}

func TestInspectSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "inspect") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")

	for _, tc := range []struct{ name, path, want string }{
		{"relative", "s", "absolute socket path"},
		{"no dir", filepath.Join(dir, "nope", "s"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := listenInspect(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("listenInspect(%q): got %v; want an error saying %q", tc.path, err, tc.want)
			}
		})
	}
	t.Run("shared dir", func(t *testing.T) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		if _, err := listenInspect(path); err == nil || !strings.Contains(err.Error(), "private") {
			t.Errorf("listenInspect in a 0755 dir: got %v; want a refusal", err)
		}
	})

	ln, err := listenInspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: got %v (%v); want 0600", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		serveInspect(ctx, ln, func(f func()) { f() }, func() InspectTree {
			return InspectTree{Title: "Porthole", Nodes: []InspectNode{{Type: "label", Text: "hi"}}}
		})
	}()
	ask := func(req string) string {
		c, err := net.DialTimeout("unix", path, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line
	}
	var tr InspectTree
	if err := json.Unmarshal([]byte(ask("tree\n")), &tr); err != nil || tr.Title != "Porthole" || len(tr.Nodes) != 1 {
		t.Errorf("tree: got %+v (%v)", tr, err)
	}
	for _, req := range []string{"quit\n", strings.Repeat("x", 1000), "\x1b[31m\n"} {
		if got := ask(req); !strings.Contains(got, `"error"`) {
			t.Errorf("request %q: got %q; want an error object", req, got)
		}
	}
	cancel()
	select {
	case <-served:
	case <-time.After(time.Minute):
		t.Fatal("serveInspect did not return after its context ended")
	}
}
