package gui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
)

// TestConnectEcho switches a connection to the dev server's echo route
// on, signs in through the (auto-login) browser stand-in, sends bytes
// through the local port and gets them back, then switches it off.
func TestConnectEcho(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	f := newFixture(t, []connections.Connection{{
		Name: "echo", Destination: "tcp+https://" + ds.Addr + "/echo.internal:7000", Tags: []string{"dev"},
	}}, func(c *Controller, _ *Options) { c.OpenURL = ds.FollowSignIn })

	// Edit the CA in through the form, as a user would.
	f.w.selectConn(f.byName("echo").ID)
	test.Tap(f.w.detail.editBtn)
	test.Type(f.w.form.caFile, ds.CAFile)
	test.Tap(f.w.form.save)
	f.q.drain()

	r, addr := f.switchOn("echo")
	if got := f.w.detail.listen.Text; got != addr {
		t.Errorf("detail local address: got %q; want %q", got, addr)
	}

	conn := f.dialEcho("echo", addr, []byte("hello through porthole\n"))
	f.eventually("1 active", func() bool { return strings.HasPrefix(r.status.Text, "1 active") })
	if n := f.notification("Sign-in needed"); n == nil || !strings.HasPrefix(n.Title, "Sign-in needed") {
		t.Errorf("notification: got %+v; want a sign-in notice", n)
	}
	conn.Close()
	f.eventually("back to listening", func() bool { return rowListening(r, addr) })

	test.Tap(r.toggle)
	f.eventually("off", func() bool { return r.status.Text == "off" })
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after switching off: got a connection; want refused", addr)
	}
	log := f.ctrl.Log(f.byName("echo").ID)
	var texts []string
	for _, e := range log {
		texts = append(texts, e.Text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"signin", "connected", "closed", "stopped"} {
		if !strings.Contains(all, want) {
			t.Errorf("log: no %q in\n%s", want, all)
		}
	}
}

// TestPortalImport imports the dev server's tcp routes with tags, then
// re-imports: the user's local port survives, tags merge, nothing is
// duplicated.
func TestPortalImport(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	f := newFixture(t, []connections.Connection{{Name: "mine", Destination: "tcp+https://proxy.example.com/mine:1"}},
		func(c *Controller, _ *Options) { c.OpenURL = ds.FollowSignIn })

	test.Tap(f.w.portalBtn)
	p := f.w.importer
	if p == nil {
		t.Fatal("no import dialog")
	}
	test.Type(p.portalURL, ds.URL.String())
	test.Type(p.tags, "dev, team-a")
	test.Type(p.caFile, ds.CAFile)
	test.Tap(p.fetchBtn)
	f.eventually("routes listed", func() bool { return len(p.routeChecks) > 0 })
	if len(p.routeChecks) != 2 {
		t.Errorf("tcp routes: got %d; want 2 (echo, admin-echo): %s", len(p.routeChecks), p.status.Text)
	}
	for id, c := range p.routeChecks {
		if !c.Checked {
			t.Errorf("route %s: got unticked; want every route ticked", id)
		}
	}
	if !strings.HasPrefix(p.preview.Text, "Add 2, update 0, unchanged 0, no longer listed 0.") {
		t.Errorf("preview: got %q", p.preview.Text)
	}
	test.Tap(p.importBtn)
	f.q.drain()
	if f.w.importer != nil {
		t.Fatalf("import dialog still open: %s", p.status.Text)
	}
	echo := f.byName("echo")
	if echo.Destination != "tcp+https://"+ds.Addr+"/echo.internal:7000" || !slices.Equal(echo.Tags, []string{"dev", "team-a"}) ||
		echo.Source == nil || echo.TLS.CAFile != ds.CAFile {
		t.Errorf("imported echo: got %+v", echo)
	}
	if got := groupLabels(f.w); !slices.Equal(got, []string{"All (3)", "dev (2)", "team-a (2)", "Untagged (1)"}) {
		t.Errorf("groups: got %q", got)
	}

	// The user picks a port for echo; the re-import keeps it.
	echo.ListenAddr = "127.0.0.1:17000"
	if _, err := f.ctrl.Save(echo); err != nil {
		t.Fatal(err)
	}
	test.Tap(f.w.portalBtn)
	p = f.w.importer
	test.Type(p.portalURL, ds.URL.String())
	test.Type(p.tags, "ops")
	test.Type(p.caFile, ds.CAFile)
	test.Tap(p.fetchBtn)
	f.eventually("routes listed again", func() bool { return len(p.routeChecks) == 2 })
	if !strings.HasPrefix(p.preview.Text, "Add 0, update 2, unchanged 0, no longer listed 0.") {
		t.Errorf("re-import preview: got %q", p.preview.Text)
	}
	test.Tap(p.importBtn)
	f.q.drain()
	if got := len(f.ctrl.Connections()); got != 3 {
		t.Errorf("after re-import: got %d connections; want 3", got)
	}
	echo = f.byName("echo")
	if echo.ListenAddr != "127.0.0.1:17000" || !slices.Equal(echo.Tags, []string{"dev", "ops", "team-a"}) {
		t.Errorf("re-imported echo: got listen %q tags %q; want 127.0.0.1:17000 [dev ops team-a]", echo.ListenAddr, echo.Tags)
	}
	if c := f.byName("mine"); c.Source != nil || len(c.Tags) != 0 {
		t.Errorf("hand-made connection touched: %+v", c)
	}
}

// testPortal is a routes portal whose list the test changes.
type testPortal struct {
	mu     sync.Mutex
	routes []portalclient.Route
}

func (tp *testPortal) set(r ...portalclient.Route) {
	tp.mu.Lock()
	tp.routes = r
	tp.mu.Unlock()
}

func (tp *testPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/.pomerium/api/v1/routes" {
		http.NotFound(w, r)
		return
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"routes": tp.routes})
}

// TestPortalReimportRemovals: routes the portal dropped are removed only
// after the explicit tick; routes of another portal are never touched.
func TestPortalReimportRemovals(t *testing.T) {
	tp := &testPortal{}
	srv := httptest.NewTLSServer(tp)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	other := connections.Connection{Name: "other-portal-db", Destination: "tcp+https://other.example.com/db:5432",
		Source: &connections.Source{PortalURL: "https://other.example.com", RouteID: "r1"}}
	f := newFixture(t, []connections.Connection{other})
	route := func(id, name, dest string) portalclient.Route {
		return portalclient.Route{ID: id, Name: name, Type: "tcp", From: dest}
	}
	tp.set(route("r1", "db", "tcp+https://proxy.example.com/db:5432"), route("r2", "ssh", "tcp+https://proxy.example.com/ssh:22"),
		route("r3", "redis", "tcp+https://proxy.example.com/redis:6379"),
		portalclient.Route{ID: "h1", Name: "web", Type: "http", From: "https://web.example.com"})

	runImport := func(tags string, untick []string, confirmRemove bool) *portalImport {
		t.Helper()
		test.Tap(f.w.portalBtn)
		p := f.w.importer
		test.Type(p.portalURL, srv.URL)
		test.Type(p.tags, tags)
		test.Type(p.caFile, ca)
		test.Tap(p.fetchBtn)
		f.eventually("routes listed", func() bool { return p.portal != "" || strings.HasPrefix(p.status.Text, "Could not") })
		for _, id := range untick {
			test.Tap(p.routeChecks[id])
		}
		if confirmRemove {
			test.Tap(p.removeCheck)
		}
		return p
	}

	p := runImport("lab", []string{"r3"}, false)
	if len(p.routeChecks) != 3 {
		t.Fatalf("tcp routes: got %d; want 3 (%s)", len(p.routeChecks), p.status.Text)
	}
	if !strings.HasPrefix(p.preview.Text, "Add 2, update 0") {
		t.Errorf("preview with redis unticked: got %q", p.preview.Text)
	}
	test.Tap(p.importBtn)
	f.q.drain()
	if got := names(f.ctrl.Connections()); got != "db, other-portal-db, ssh" {
		t.Fatalf("after import: got %s", got)
	}

	tp.set(route("r1", "db", "tcp+https://proxy.example.com/db:5432"))
	p = runImport("lab", nil, false)
	if !p.removeCheck.Visible() || !strings.Contains(p.removeCheck.Text, "ssh") || p.removeCheck.Checked {
		t.Errorf("removal offer: visible %v text %q checked %v; want shown, naming ssh, unticked", p.removeCheck.Visible(), p.removeCheck.Text, p.removeCheck.Checked)
	}
	if !p.importBtn.Disabled() {
		t.Errorf("nothing to add or update and removal not ticked: got Import enabled")
	}
	p.close()
	if got := names(f.ctrl.Connections()); got != "db, other-portal-db, ssh" {
		t.Fatalf("without the tick: got %s; want ssh kept", got)
	}

	p = runImport("lab", nil, true)
	test.Tap(p.importBtn)
	f.q.drain()
	if got := names(f.ctrl.Connections()); got != "db, other-portal-db" {
		t.Errorf("after confirmed removal: got %s; want db, other-portal-db", got)
	}
}

// TestFileImportExport: export, wipe, import restores; the same file
// twice adds nothing; a Pomerium Desktop export imports with its tags.
func TestFileImportExport(t *testing.T) {
	f := newFixture(t, sample())
	dir := t.TempDir()
	before := f.ctrl.Connections()

	for _, format := range []string{formatPortholeLabel, formatDesktopLabel} {
		t.Run(format, func(t *testing.T) {
			f.files.save = filepath.Join(dir, strings.ReplaceAll(format, " ", "_")+".json")
			test.Tap(f.w.exportBtn)
			f.w.exporter.format.SetSelected(format)
			test.Tap(f.w.exporter.saveBtn)
			if fi, err := os.Stat(f.files.save); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("export file: %v %v; want mode 0600", fi, err)
			}
			for _, c := range f.ctrl.Connections() {
				if err := f.ctrl.Delete(c.ID); err != nil {
					t.Fatal(err)
				}
			}
			f.files.open = f.files.save
			for range 2 {
				test.Tap(f.w.importBtn)
			}
			f.q.drain()
			after := f.ctrl.Connections()
			if len(after) != len(before) {
				t.Fatalf("after import twice: got %d connections; want %d", len(after), len(before))
			}
			for i := range before {
				if after[i].Name != before[i].Name || after[i].Destination != before[i].Destination || !slices.Equal(after[i].Tags, before[i].Tags) {
					t.Errorf("round trip %d: got %+v; want %+v", i, after[i], before[i])
				}
			}
			if got := groupLabels(f.w); !slices.Equal(got, []string{"All (4)", "db (2)", "prod (2)", "Untagged (1)"}) {
				t.Errorf("groups after import: got %q", got)
			}
		})
	}

	t.Run("Pomerium Desktop sample", func(t *testing.T) {
		sample := `{
  "@type": "type.googleapis.com/pomerium.cli.Records",
  "records": [
    {"id": "a1", "tags": ["Databases", "Prod"], "conn": {"name": "Customers DB", "remoteAddr": "tcp+https://customers-db.corp.example.com:5432", "listenAddr": "127.0.0.1:5433", "disableTlsVerification": true, "autostart": true}},
    {"id": "a2", "tags": ["SSH"], "conn": {"name": "Bastion", "remoteAddr": "bastion.corp.example.com:22", "pomeriumUrl": "https://proxy.corp.example.com"}},
    {"id": "a3", "conn": {"name": "RDP", "remoteAddr": "tcp+https://proxy.corp.example.com/rdp.internal:3389"}}
  ]
}`
		path := filepath.Join(dir, "pomerium-desktop-export.json")
		if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
			t.Fatal(err)
		}
		f.files.open = path
		test.Tap(f.w.importBtn)
		f.q.drain()
		// Autostart is shown before saving (issue 10 item 12).
		if !strings.Contains(f.w.lastInfo, "Customers DB: starts on its own") {
			t.Errorf("risky import: shown %q; want Customers DB's autostart", f.w.lastInfo)
		}
		test.Tap(findButton(t, f.w.win.Canvas(), "Import"))
		f.q.drain()
		if !strings.Contains(f.w.lastInfo, "3 added") {
			t.Errorf("import message: got %q; want 3 added", f.w.lastInfo)
		}
		db := f.byName("Customers DB")
		want := fmt.Sprint(connections.Connection{ID: db.ID, Name: "Customers DB", Destination: "tcp+https://customers-db.corp.example.com:5432",
			ListenAddr: "127.0.0.1:5433", Tags: []string{"Databases", "Prod"}, Autostart: true})
		db.TLS.DisableVerification = false
		if fmt.Sprint(db) != want {
			t.Errorf("Customers DB: got %+v; want %s (and TLS verification off)", db, want)
		}
		if b := f.byName("Bastion"); b.PomeriumURL != "https://proxy.corp.example.com" || !slices.Equal(b.Tags, []string{"SSH"}) {
			t.Errorf("Bastion: got %+v", b)
		}
		f.selectGroup("Databases (1)")
		if got := f.shownNames(); !slices.Equal(got, []string{"Customers DB"}) {
			t.Errorf("Databases group: got %q", got)
		}
		test.Tap(f.w.importBtn)
		f.q.drain()
		if !strings.Contains(f.w.lastInfo, "0 added") || len(f.ctrl.Connections()) != 7 {
			t.Errorf("second import: got %q and %d connections; want 0 added, 7", f.w.lastInfo, len(f.ctrl.Connections()))
		}
	})
}

// TestPortalImportTLS: the import dialog takes every TLS option. A portal
// that wants a client certificate is reached with the one given, and the
// imported connections keep it; a certificate without its key is refused
// before anything is fetched.
func TestPortalImportTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, certPEM := writeCertKey(t, dir)
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM([]byte(certPEM))
	tp := &testPortal{}
	tp.set(portalclient.Route{ID: "r1", Name: "db", Type: "tcp", From: "tcp+https://proxy.example.com/db:5432"})
	srv := httptest.NewUnstartedServer(tp)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	srv.StartTLS()
	defer srv.Close()
	serverCA := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	f := newFixture(t, nil)

	open := func(cert, key string) *portalImport {
		t.Helper()
		test.Tap(f.w.portalBtn)
		p := f.w.importer
		test.Type(p.portalURL, srv.URL)
		test.Type(p.tags, "mtls")
		test.Type(p.caPEM, serverCA)
		if cert != "" {
			test.Type(p.clientCert, cert)
		}
		if key != "" {
			test.Type(p.clientKey, key)
		}
		return p
	}

	t.Run("certificate without key", func(t *testing.T) {
		p := open(certFile, "")
		test.Tap(p.fetchBtn)
		f.q.drain()
		if !strings.Contains(p.status.Text, "needs its key") || p.fetchBtn.Disabled() {
			t.Errorf("status: got %q (fetch disabled %v); want the missing key named, nothing fetched", p.status.Text, p.fetchBtn.Disabled())
		}
		p.close()
	})

	t.Run("no client certificate", func(t *testing.T) {
		p := open("", "")
		test.Tap(p.fetchBtn)
		f.eventually("the fetch to fail", func() bool { return strings.HasPrefix(p.status.Text, "Could not fetch routes") })
		if len(p.routeChecks) != 0 || !p.importBtn.Disabled() {
			t.Errorf("after a failed fetch: got %d routes, import enabled %v; want none, disabled", len(p.routeChecks), !p.importBtn.Disabled())
		}
		p.close()
	})

	t.Run("client certificate", func(t *testing.T) {
		p := open(certFile, keyFile)
		test.Tap(p.fetchBtn)
		f.eventually("routes listed", func() bool { return p.portal != "" || strings.HasPrefix(p.status.Text, "Could not") })
		if len(p.routeChecks) != 1 {
			t.Fatalf("tcp routes: got %d; want 1 (%s)", len(p.routeChecks), p.status.Text)
		}
		test.Tap(p.importBtn)
		f.q.drain()
		// The key files are in a temp dir, outside home: asked first.
		if f.w.confirm == nil || !strings.Contains(f.w.lastInfo, "outside your home directory") {
			t.Fatalf("import with key files outside home: no confirmation (info %q)", f.w.lastInfo)
		}
		test.Tap(findButton(t, f.w.win.Canvas(), "Import"))
		f.q.drain()
		db := f.byName("db")
		want := tlsconfig.Options{CACert: strings.TrimSpace(serverCA), ClientCertFile: certFile, ClientKeyFile: keyFile}
		if db.TLS != want || !slices.Equal(db.Tags, []string{"mtls"}) {
			t.Errorf("imported db: got TLS %+v tags %q; want %+v [mtls]", db.TLS, db.Tags, want)
		}
	})
}

// signInPortal is a RoutesFetcher that asks for a sign-in and waits for
// the test to finish it.
type signInPortal struct {
	url    string
	signed chan struct{}
	routes []portalclient.Route
}

func (s *signInPortal) Routes(ctx context.Context, _ *url.URL, _ tlsconfig.Options, notify func(string)) ([]portalclient.Route, error) {
	notify(s.url)
	select {
	case <-s.signed:
		return s.routes, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestPortalImportSignInLink: while the portal waits for a sign-in, the
// dialog shows the sign-in URL as a link; once signed in, the routes show.
func TestPortalImportSignInLink(t *testing.T) {
	sp := &signInPortal{url: "https://portal.example.com/.pomerium/sign_in?pomerium_redirect_uri=x", signed: make(chan struct{}),
		routes: []portalclient.Route{{ID: "r1", Name: "db", Type: "tcp", From: "tcp+https://portal.example.com/db:5432"}}}
	f := newFixture(t, nil, func(_ *Controller, o *Options) { o.Portal = sp })
	test.Tap(f.w.portalBtn)
	p := f.w.importer
	test.Type(p.portalURL, "https://portal.example.com")
	test.Tap(p.fetchBtn)
	f.eventually("the sign-in link", func() bool { return p.signIn.Visible() })
	if p.signIn.URL == nil || p.signIn.URL.String() != sp.url || p.signIn.Text != sp.url {
		t.Errorf("sign-in link: got %v (%q); want %s", p.signIn.URL, p.signIn.Text, sp.url)
	}
	if !strings.HasPrefix(p.status.Text, "Sign in to continue") || !p.fetchBtn.Disabled() {
		t.Errorf("while signing in: status %q, fetch disabled %v; want the sign-in prompt and fetch disabled", p.status.Text, p.fetchBtn.Disabled())
	}
	close(sp.signed)
	f.eventually("routes listed", func() bool { return len(p.routeChecks) == 1 })
	if p.signIn.Visible() {
		t.Errorf("after signing in: got the sign-in link still shown")
	}
	if !p.routeChecks["r1"].Checked || p.importBtn.Disabled() {
		t.Errorf("route r1 ticked %v, import enabled %v; want both", p.routeChecks["r1"].Checked, !p.importBtn.Disabled())
	}
}
