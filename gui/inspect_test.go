package gui

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
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
