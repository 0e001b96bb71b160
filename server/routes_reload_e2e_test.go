package server_test

import (
	"bytes"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestLiveReload: routes are added, changed and removed by editing the
// file while a tunnel through an unchanged route keeps carrying bytes;
// a broken edit leaves service as it was and logs what is wrong.
func TestLiveReload(t *testing.T) {
	echo := echoListener(t)
	a, _ := upstream(t, echoHandler("a"), nil)
	b, _ := upstream(t, echoHandler("b"), nil)
	tcp := "  - from: tcp+https://db.internal:5432\n    to: tcp://" + echo + "\n    allow_any_authenticated_user: true\n"
	pub := func(host, to string) string {
		return "  - from: https://" + host + "\n    to: http://" + to + "\n    allow_public_unauthenticated_access: true\n"
	}
	e := startRoutes(t, "routes:\n"+tcp+pub("one.localhost", a)+pub("gone.localhost", a))
	header, err := os.ReadFile(e.file)
	if err != nil {
		t.Fatal(err)
	}
	head := string(header[:bytes.Index(header, []byte("routes:"))])

	// A tunnel through the tcp route, open across every reload.
	d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: e.addr}, Addr: e.addr, CAPool: e.pki.pool()}
	resp, conn, br := connectH1(t, d, "db.internal:5432", e.token("dev@example.com"))
	if resp.StatusCode != 200 {
		t.Fatalf("tunnel: got %d; want 200", resp.StatusCode)
	}
	ping := func(step string) {
		t.Helper()
		msg := step + "\n"
		conn.SetDeadline(time.Now().Add(time.Minute))
		if _, err := io.WriteString(conn, msg); err != nil {
			t.Fatalf("%s: tunnel write: %v", step, err)
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
			t.Fatalf("%s: tunnel echo got %q, %v; want %q", step, buf, err, msg)
		}
	}
	status := func(host string) (int, string) {
		resp, body := e.do(e.client, "GET", e.url(host, "/"), nil)
		if resp.StatusCode != 200 {
			return resp.StatusCode, ""
		}
		return 200, decodeSeen(t, body).Name
	}
	write := func(yml string) {
		t.Helper()
		// Write a temp file and rename it over, as editors and
		// Kubernetes do.
		tmp := e.file + ".tmp"
		if err := os.WriteFile(tmp, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, e.file); err != nil {
			t.Fatal(err)
		}
	}
	ping("before")

	// Add two.localhost, point one.localhost at b, remove gone.localhost.
	start := time.Now()
	write(head + "routes:\n" + tcp + pub("one.localhost", b) + pub("two.localhost", a))
	pollUntil(t, 2*time.Minute, func() string {
		if c, n := status("two.localhost"); c != 200 || n != "a" {
			return "two.localhost not added"
		}
		if c, n := status("one.localhost"); c != 200 || n != "b" {
			return "one.localhost not changed to b"
		}
		if c, _ := status("gone.localhost"); c != 404 {
			return "gone.localhost not removed"
		}
		return ""
	})
	// Reload is pushed by fsnotify, not a slow poll; a loaded machine can
	// still take seconds, so only "not a poll of minutes" is asserted.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("reload took %v; want it pushed by the file change, not a poll", d)
	} else {
		t.Logf("reload took %v", d.Round(time.Millisecond))
	}
	ping("after a good edit")

	// A broken edit: the running routes stay, the log says why.
	write(head + "routes:\n" + tcp + pub("one.localhost", b) + "  - from: https://three.localhost\n    to: http://" + a + "\n    lb_policy: FASTEST\n")
	pollUntil(t, 2*time.Minute, func() string {
		if !strings.Contains(e.logs.String(), "config reload refused") || !strings.Contains(e.logs.String(), "lb_policy") {
			return "no log line about the refused reload naming lb_policy"
		}
		return ""
	})
	if c, n := status("two.localhost"); c != 200 || n != "a" {
		t.Errorf("after a broken edit two.localhost: got %d %s; want the running config (200 from a)", c, n)
	}
	if c, _ := status("three.localhost"); c != 404 {
		t.Errorf("after a broken edit three.localhost: got %d; want 404 (not applied)", c)
	}
	ping("after a broken edit")

	// Routes that clash are refused too.
	write(head + "routes:\n" + tcp + pub("one.localhost", a) + pub("one.localhost", b))
	pollUntil(t, 2*time.Minute, func() string {
		if strings.Count(e.logs.String(), "config reload refused") < 2 {
			return "the clashing edit was not refused"
		}
		return ""
	})
	if c, n := status("one.localhost"); c != 200 || n != "b" {
		t.Errorf("after a clashing edit one.localhost: got %d %s; want the running config (b)", c, n)
	}
	ping("at the end")
}
