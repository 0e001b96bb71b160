package gui

import (
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// TestFormProtocol: the form saves a UDP connection, refuses a tcp+https
// destination for it (the message under Destination), and an edit of a
// UDP connection starts on UDP.
func TestFormProtocol(t *testing.T) {
	f := newFixture(t, nil)
	test.Tap(f.w.addBtn)
	form := f.w.form
	if form == nil {
		t.Fatal("tapping Add opened no form")
	}
	if form.protocol.Selected != protoTCP {
		t.Errorf("new connection protocol: got %q; want %s", form.protocol.Selected, protoTCP)
	}
	test.Type(form.name, "dns")
	form.protocol.SetSelected(protoUDP)
	test.Type(form.dest, "tcp+https://proxy.example.com/dns.internal:53")
	refuseSave(t, form, connections.FieldDestination, "udp+https")
	form.dest.SetText("udp+https://proxy.example.com/dns.internal:53")
	if form.save.Disabled() {
		t.Fatalf("Save: got disabled; want enabled (error: %v)", form.validate())
	}
	test.Tap(form.save)
	f.q.drain()
	c := f.byName("dns")
	if !c.UDP() || c.Destination != "udp+https://proxy.example.com/dns.internal:53" {
		t.Fatalf("saved %+v; want a udp connection", c)
	}
	f.w.openForm(c, "Edit")
	if f.w.form.protocol.Selected != protoUDP {
		t.Errorf("editing a udp connection: protocol %q; want %s", f.w.form.protocol.Selected, protoUDP)
	}
}

// TestConnectUDPEcho: the desktop app switches a UDP connection on (a
// connect-udp tunnel per local peer), signs in and carries datagrams to a
// loopback UDP echo through the dev server.
func TestConnectUDPEcho(t *testing.T) {
	echo := testutil.StartUDPEcho(t)
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: udp+https://dns.internal:53
    to: udp://`+echo+`
    allow_any_authenticated_user: true
`))
	f := newFixture(t, []connections.Connection{{
		Name: "dns", Protocol: connections.ProtocolUDP, Destination: "udp+https://" + ds.Addr + "/dns.internal:53",
		TLS: tlsconfig.Options{CAFile: ds.CAFile},
	}}, func(c *Controller, _ *Options) { c.OpenURL = ds.FollowSignIn })
	r, addr := f.switchOn("dns")
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	for _, msg := range []string{"x", strings.Repeat("d", 1400)} {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("udp echo of %d bytes: got %d, %v (log %v)", len(msg), n, err, f.ctrl.Log(f.byName("dns").ID))
		}
	}
	test.Tap(r.toggle)
	f.eventually("off", func() bool { return r.status.Text == "off" })
}
