package gui

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
)

// routeLabel finds the form's route option that names route.
func routeLabel(t *testing.T, f *fixture, route string) string {
	t.Helper()
	for _, l := range f.w.form.route.Options {
		if strings.HasPrefix(l, route+"  —  ") {
			return l
		}
	}
	t.Fatalf("route %q not offered; options %q", route, f.w.form.route.Options)
	return ""
}

// TestFormRouteFromPortal: after an import from the dev server's portal,
// the add form offers that portal's routes; picking one fills the
// destination, name and TLS, and the saved connection carries bytes.
func TestFormRouteFromPortal(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	f := newFixture(t, nil, func(c *Controller, _ *Options) { c.OpenURL = ds.FollowSignIn })
	test.Tap(f.w.portalBtn)
	p := f.w.importer
	test.Type(p.portalURL, ds.URL.String())
	test.Type(p.caFile, ds.CAFile)
	test.Tap(p.fetchBtn)
	f.eventually("routes listed", func() bool { return len(p.routeChecks) == 2 })
	for _, c := range p.routeChecks {
		if !strings.Contains(c.Text, "admin-echo") {
			c.SetChecked(false) // import admin-echo only: echo comes from the form
		}
	}
	test.Tap(p.importBtn)
	f.q.drain()

	test.Tap(f.w.addBtn)
	form := f.w.form
	if form.route.Disabled() {
		t.Fatalf("route choice disabled after an import; placeholder %q", form.route.PlaceHolder)
	}
	form.route.SetSelected(routeLabel(t, f, "echo"))
	if want := "tcp+https://" + ds.Addr + "/echo.internal:7000"; form.dest.Text != want || form.name.Text != "echo" || form.caFile.Text != ds.CAFile {
		t.Fatalf("after picking echo: dest %q name %q CA %q; want %q, echo, %q", form.dest.Text, form.name.Text, form.caFile.Text, want, ds.CAFile)
	}
	if form.save.Disabled() {
		t.Fatalf("Save disabled: %v", form.validate())
	}
	test.Tap(form.save)
	f.q.drain()
	c := f.byName("echo")
	if c.Source == nil || c.Source.PortalURL == "" {
		t.Errorf("saved echo has no portal source (a later import would not match it): %+v", c)
	}
	_, addr := f.switchOn("echo")
	f.dialEcho("echo", addr, []byte("picked from the portal"))
}

// TestFormRouteChoices: the form offers only the tcp and udp routes of
// cached lists (no fetch), escaped; picking a udp route sets UDP and
// the server profile's CA; with nothing cached the choice is disabled.
func TestFormRouteChoices(t *testing.T) {
	dir := t.TempDir()
	caFile, _, _ := writeCertKey(t, dir)
	f := newFixture(t, nil, func(_ *Controller, o *Options) {
		if err := os.MkdirAll(o.ServersDir, 0o700); err != nil {
			t.Fatal(err)
		}
		servers := `{"servers":[{"url":"https://proxy.example.com","alternate_ca_path":` + strconv.Quote(caFile) + `,"last_used":"2026-01-01T00:00:00Z"}]}`
		if err := os.WriteFile(filepath.Join(o.ServersDir, "servers.json"), []byte(servers), 0o600); err != nil {
			t.Fatal(err)
		}
		cf := &cmdutil.Factory{CacheDir: o.CLICacheDir}
		u, _ := url.Parse("https://proxy.example.com")
		err := cf.SaveRoutes(u, []portalclient.Route{
			{ID: "1", Name: "db", Type: "tcp", From: "tcp+https://db.example.com:5432"},
			{ID: "2", Name: "dns", Type: "udp", From: "udp+https://dns.example.com:53"},
			{ID: "3", Name: "web", Type: "http", From: "https://web.example.com"},
			{ID: "4", Name: "evil\x1b]0;x\x07", Type: "tcp", From: "tcp+https://evil.example.com:1"},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	test.Tap(f.w.addBtn)
	form := f.w.form
	if n := len(form.route.Options); n != 3 {
		t.Errorf("options %q: got %d; want db, dns and evil (no http route)", form.route.Options, n)
	}
	for _, l := range form.route.Options {
		if strings.ContainsAny(l, "\x1b\x07") {
			t.Errorf("option %q holds raw control characters", l)
		}
	}
	form.route.SetSelected(routeLabel(t, f, "dns"))
	if form.protocol.Selected != protoUDP || form.dest.Text != "udp+https://dns.example.com:53" || form.caFile.Text != caFile {
		t.Errorf("after picking dns: protocol %q dest %q CA %q", form.protocol.Selected, form.dest.Text, form.caFile.Text)
	}
	if form.pomeriumURL.Text != "https://proxy.example.com" {
		t.Errorf("Pomerium URL %q; want the portal for a host-form route", form.pomeriumURL.Text)
	}
	test.Tap(form.save)
	f.q.drain()
	if c := f.byName("dns"); !c.UDP() || !slices.Contains([]string{caFile}, c.TLS.CAFile) {
		t.Errorf("saved dns: %+v", c)
	}

	empty := newFixture(t, []connections.Connection{{Name: "x", Destination: "tcp+https://proxy.example.com/x:1"}})
	test.Tap(empty.w.addBtn)
	if r := empty.w.form.route; !r.Disabled() || !strings.Contains(r.PlaceHolder, "Import from portal") {
		t.Errorf("with nothing cached: disabled %v, placeholder %q; want disabled, pointing at the import", r.Disabled(), r.PlaceHolder)
	}
}
