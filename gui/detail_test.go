package gui

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/tunnel"
)

// TestDetailErrorDisclosure: an error shows in plain words with its fix;
// the raw Go error waits folded under "Technical details", and is not
// offered when it says nothing more.
func TestDetailErrorDisclosure(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	id := f.byName("pg-prod").ID
	f.w.selectConn(id)
	test.Tap(f.row("pg-prod").toggle)
	var l *fakeListener
	f.eventually("listening", func() bool { l = fl.get("pg.internal:5432"); return l != nil && f.ctrl.State(id).Addr != "" })
	d := f.w.detail

	raw := fmt.Errorf("opening tunnel to proxy.example.com:443: %w", x509.UnknownAuthorityError{})
	l.emit(tunnel.Event{Kind: tunnel.EventError, ConnID: 1, Err: raw})
	f.q.drain()
	if d.status.Text != "error: the server's certificate is not trusted" {
		t.Errorf("status: got %q", d.status.Text)
	}
	if !d.fix.Visible() || !strings.Contains(d.fix.Text, "add its CA") {
		t.Errorf("fix: got %q (shown %v); want the CA hint", d.fix.Text, d.fix.Visible())
	}
	if !d.rawFold.Visible() || d.rawFold.Items[0].Open || d.raw.Text != raw.Error() {
		t.Errorf("technical details: shown %v, open %v, text %q; want shown, folded, the raw error", d.rawFold.Visible(), d.rawFold.Items[0].Open, d.raw.Text)
	}
	d.rawFold.Open(0)
	if !d.raw.Visible() {
		t.Errorf("technical details opened: raw error not visible")
	}

	l.emit(tunnel.Event{Kind: tunnel.EventError, ConnID: 2, Err: errors.New("something odd")})
	f.q.drain()
	if d.status.Text != "error: something odd" || d.fix.Visible() || d.rawFold.Visible() {
		t.Errorf("unknown error: status %q, fix shown %v, details shown %v; want the error alone", d.status.Text, d.fix.Visible(), d.rawFold.Visible())
	}
}

// TestExportLog: the log goes to the file picked, replacing it whole
// (temp file + rename, 0600, nothing left beside it); a place it cannot
// be written says so and changes nothing.
func TestExportLog(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	id := f.byName("pg-prod").ID
	f.w.selectConn(id)
	test.Tap(f.row("pg-prod").toggle)
	f.eventually("listening", func() bool { return f.ctrl.State(id).Addr != "" })
	f.eventually("a log line", func() bool { return len(f.w.detail.entries) >= 1 })

	dir := t.TempDir()
	path := filepath.Join(dir, "pg.log")
	if err := os.WriteFile(path, []byte(strings.Repeat("old content\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	f.files.save = path
	test.Tap(f.w.detail.exportLogBtn)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := f.ctrl.Log(id)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(log) || lines[0] != log[0].String() || strings.Contains(string(b), "old content") {
		t.Errorf("exported log: got %q; want the %d lines, newest first, nothing of the old file", lines, len(log))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("exported log mode: %v (%v); want 0600", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("export directory holds %d entries; want only the log (no temp file left)", len(ents))
	}
	if got := f.files.saved[len(f.files.saved)-1]; got != "pg-prod.log" {
		t.Errorf("suggested name: got %q; want pg-prod.log", got)
	}

	// A file where a directory should be: the write fails before any byte.
	f.files.save = filepath.Join(path, "again.log")
	test.Tap(f.w.detail.exportLogBtn)
	if after, err := os.ReadFile(path); err != nil || string(after) != string(b) {
		t.Errorf("failed export touched %s: %v", path, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("failed export left %d entries; want only the first log", len(ents))
	}
	if !strings.Contains(f.w.lastInfo, "again.log") && !strings.Contains(f.w.lastInfo, "pg.log") {
		t.Errorf("failed export: shown %q; want the error naming the path", f.w.lastInfo)
	}
}
