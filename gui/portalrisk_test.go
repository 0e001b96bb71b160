package gui

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// hostilePortal answers the routes API with what a hostile portal might
// send: fields asking for a network-wide listener and autostart, names
// with terminal controls, and a route that is not tcp.
const hostilePortal = `{"routes":[
 {"id":"r1","name":"db\u001b[31m","type":"tcp","from":"tcp+https://proxy.example.com/db:5432",
  "listen_addr":"0.0.0.0:5432","listen":"0.0.0.0:5432","autostart":true,"tls":{"client_key_file":"/etc/shadow"}},
 {"id":"r2","name":"ssh","type":"tcp","from":"tcp+https://proxy.example.com/ssh:22","autostart":"yes","ListenAddr":":22"},
 {"id":"r3","name":"web","type":"http","from":"https://web.example.com"}
]}`

// TestPortalImportRisks: the portal import runs the plan through
// Store.ImportRisks like the file import. A hostile portal's extra fields
// reach nothing (no listener, no autostart, no key file); key files the
// user gives outside home are shown and saved only on Import.
func TestPortalImportRisks(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.pomerium/api/v1/routes" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(hostilePortal))
	}))
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	fetch := func(f *fixture, cert, key string) *portalImport {
		t.Helper()
		test.Tap(f.w.portalBtn)
		p := f.w.importer
		p.portalURL.SetText(srv.URL)
		p.caPEM.SetText(ca)
		p.clientCert.SetText(cert)
		p.clientKey.SetText(key)
		test.Tap(p.fetchBtn)
		f.eventually("routes listed", func() bool { return p.portal != "" || strings.HasPrefix(p.status.Text, "Could not") })
		if len(p.routeChecks) != 2 {
			t.Fatalf("routes: got %d; want the 2 tcp ones (%s)", len(p.routeChecks), p.status.Text)
		}
		return p
	}

	t.Run("hostile fields set nothing", func(t *testing.T) {
		f := newFixture(t, nil)
		p := fetch(f, "", "")
		test.Tap(p.importBtn)
		f.q.drain()
		if f.w.confirm != nil {
			t.Errorf("a confirmation showed (%q); want none: the portal set nothing risky", f.w.lastInfo)
		}
		list := f.ctrl.Connections()
		if len(list) != 2 {
			t.Fatalf("saved: got %d connections; want 2", len(list))
		}
		for _, c := range list {
			if c.ListenAddr != "" || c.Autostart || c.TLS.ClientKeyFile != "" {
				t.Errorf("saved %q: listen %q autostart %v key %q; want none of the portal's asks", c.Name, c.ListenAddr, c.Autostart, c.TLS.ClientKeyFile)
			}
		}
	})

	t.Run("key files outside home are asked about", func(t *testing.T) {
		t.Setenv("HOME", t.TempDir())
		cert, key, _ := writeCertKey(t, t.TempDir()) // outside that home
		f := newFixture(t, nil)
		p := fetch(f, cert, key)
		test.Tap(p.importBtn)
		f.q.drain()
		if f.w.confirm == nil || !strings.Contains(f.w.lastInfo, "client key file "+key) {
			t.Fatalf("no confirmation naming the key file; info %q", f.w.lastInfo)
		}
		test.Tap(findButton(t, f.w.win.Canvas(), "Cancel"))
		f.q.drain()
		if n := len(f.ctrl.Connections()); n != 0 || f.w.importer == nil {
			t.Fatalf("after Cancel: %d saved, dialog open %v; want nothing saved and the dialog still open", n, f.w.importer != nil)
		}
		test.Tap(p.importBtn)
		f.q.drain()
		test.Tap(findButton(t, f.w.win.Canvas(), "Import"))
		f.q.drain()
		if n := len(f.ctrl.Connections()); n != 2 || f.w.importer != nil {
			t.Errorf("after Import: %d saved, dialog open %v; want 2 and closed", n, f.w.importer != nil)
		}
	})
}
