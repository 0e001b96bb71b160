package gui

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// Layers of match: any, the main window, the first dialog.
const (
	anyLayer    = -1
	layerMain   = 0
	layerDialog = 1
)

// TestDesktopStatesUnderXvfb walks the real app through the states the
// README shows, as a user would with mouse and keyboard (xdotool), and
// checks each state's widgets (inspection socket) and screenshot:
// empty, import from the dev server's portal with tags, the imported
// list, a connection carrying bytes with live counters, the add form
// with Advanced folded, and a connection whose server's CA is not
// trusted, in plain words with the fix.
func TestDesktopStatesUnderXvfb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary under Xvfb")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	home := t.TempDir()
	a := startXApp(t, home, ds.CAFile)

	// 1. Empty: the two ways to start, nothing to connect.
	a.waitFor("the empty state", func(tr InspectTree) bool {
		n, ok := tr.find(match{typ: "button", text: "Connect all", layer: layerMain})
		return ok && n.Disabled && tr.has(match{typ: "label", text: "No connections yet.…", layer: layerMain})
	})
	a.shoot("empty",
		match{typ: "label", text: "No connections yet.…", layer: layerMain},
		match{typ: "button", text: "Import from portal", layer: layerMain},
		match{typ: "button", text: "Add connection", layer: layerMain})

	// 2. Import from the portal: URL, tags and CA typed in, routes fetched
	// (signing in through the browser stand-in), all imported.
	var emptyImport InspectNode
	a.waitFor("the empty state's import button", func(tr InspectTree) bool {
		for _, n := range tr.Nodes {
			if n.Type == "button" && n.Text == "Import from portal" && n.Importance == "high" {
				emptyImport = n
				return true
			}
		}
		return false
	})
	a.click(match{typ: "button", text: "Import from portal", layer: layerMain, form: emptyImport.FormLabel, contains: ""})
	a.waitFor("the import dialog", func(tr InspectTree) bool {
		return tr.has(match{typ: "label", text: "Import from portal", layer: layerDialog}, match{typ: "entry", form: "Portal URL", layer: layerDialog})
	})
	a.typeInto(match{form: "Portal URL", layer: layerDialog}, ds.URL.String())
	a.typeInto(match{form: "Tags", layer: layerDialog}, "dev, demo")
	a.typeInto(match{form: "CA file", layer: layerDialog}, ds.CAFile)
	a.click(match{typ: "button", text: "Fetch routes", layer: layerDialog})
	routes := []match{
		{typ: "check", text: "echo  —  …", layer: layerDialog},
		{typ: "check", text: "admin-echo  —  …", layer: layerDialog},
	}
	a.waitFor("the portal's routes", func(tr InspectTree) bool {
		for _, m := range routes {
			if n, ok := tr.find(m); !ok || !n.Checked {
				return false
			}
		}
		return tr.has(match{typ: "label", text: "Add 2, update 0…", layer: layerDialog})
	})
	a.shoot("import", append(routes, match{typ: "label", text: "Add 2, update 0…", layer: layerDialog})...)
	a.click(match{typ: "button", text: "Import", layer: layerDialog})

	// 3. The imported list: one row each, with the portal's names and the
	// tags typed above; the account area knows who signed in to fetch.
	signedIn := match{typ: "label", text: "signed in as …", contains: "dev@example.com", layer: layerMain}
	list := a.waitFor("the imported rows", func(tr InspectTree) bool {
		return tr.topLayer() == 0 && tr.has(match{typ: "label", text: "echo", row: "echo"}, match{typ: "label", text: "admin-echo", row: "admin-echo"},
			signedIn, match{typ: "button", text: "Sign out", layer: layerMain})
	})
	for _, row := range []string{"echo", "admin-echo"} {
		for _, tag := range []string{"dev", "demo"} {
			if !list.has(match{typ: "text", text: tag, row: row}) {
				t.Errorf("row %s: no %s tag chip", row, tag)
			}
		}
		if n, ok := list.find(match{typ: "check", row: row}); !ok || n.Checked {
			t.Errorf("row %s switch: got %+v; want it off", row, n)
		}
	}
	if list.has(match{typ: "label", text: "No connections yet.…", layer: anyLayer}) {
		t.Errorf("the empty state still shows beside the imported rows")
	}
	a.shoot("list",
		match{typ: "label", text: "echo", row: "echo"}, match{typ: "text", text: "demo", row: "echo"},
		match{typ: "label", text: "admin-echo", row: "admin-echo"}, match{typ: "text", text: "dev", row: "admin-echo"}, signedIn)

	// 4. Connected: switch echo on, carry bytes through its local port,
	// watch the counters move.
	a.click(match{typ: "check", row: "echo"})
	var addr string
	a.waitFor("echo listening", func(tr InspectTree) bool {
		addr = localAddr(tr, "echo")
		return addr != "" && tr.has(match{typ: "label", text: "listening…", row: "echo"})
	})
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Minute))
	echo := func(size int) {
		t.Helper()
		msg := bytes.Repeat([]byte("porthole "), size/9+1)[:size]
		go func() { _, _ = conn.Write(msg) }()
		got := make([]byte, size)
		if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes through %s: %v", size, addr, err)
		}
	}
	// The row and the detail pane show what went each way, as the CLI
	// counts it (cmdutil.Bytes), and follow more traffic.
	carried := 0
	for _, size := range []int{10_000, 300_000} {
		echo(size)
		carried += size
		want := cmdutil.Bytes(int64(carried))
		a.waitFor("echo's counters at "+want, func(tr InspectTree) bool {
			row, ok := tr.find(match{typ: "label", text: "1 active…", row: "echo"})
			detail := false
			for _, n := range tr.Nodes {
				detail = detail || n.Row == "" && n.Layer == 0 && strings.Count(n.Text, want) == 2
			}
			return ok && strings.Count(row.Text, want) == 2 && detail
		})
	}
	a.shoot("connected", match{typ: "label", text: "1 active…", row: "echo"}, match{typ: "label", text: "echo", row: "echo"})

	// 5. The add form (Ctrl+N, the shortcut): essentials only, Advanced
	// folded.
	a.xdo("key", "--clearmodifiers", "ctrl+n")
	form := a.waitFor("the add form", func(tr InspectTree) bool {
		n, ok := tr.find(match{typ: "entry", form: "Name", layer: layerDialog})
		return ok && n.Focused && tr.has(match{typ: "label", text: "Add connection", layer: layerDialog})
	})
	acc, ok := form.find(match{typ: "accordion", layer: layerDialog})
	if !ok || len(acc.Open) != 1 || acc.Open[0] || !strings.HasPrefix(acc.Items[0], "Advanced") {
		t.Errorf("Advanced: got %+v; want one folded Advanced item", acc)
	}
	// The portal imported in step 2 offers its routes in the form.
	if n, ok := form.find(match{typ: "select", form: "Route", layer: layerDialog}); !ok || n.Disabled || len(n.Items) != 2 {
		t.Errorf("Route choice: got %+v (found %v); want enabled with the portal's 2 routes", n, ok)
	}
	for _, f := range []string{"CA file", "Client certificate", "Pomerium URL"} {
		if form.has(match{form: f, layer: anyLayer}) {
			t.Errorf("%s shows with Advanced folded", f)
		}
	}
	untrusted := "tcp+https://" + ds.Addr + "/echo.internal:7000"
	a.typeInto(match{form: "Name", layer: layerDialog}, "untrusted")
	a.typeInto(match{form: "Destination", layer: layerDialog}, untrusted)
	a.typeInto(match{form: "Tags", layer: layerDialog}, "dev")
	a.shoot("add-form",
		match{typ: "label", text: "Add connection", layer: layerDialog},
		match{typ: "entry", form: "Name", layer: layerDialog},
		match{typ: "entry", form: "Destination", layer: layerDialog},
		match{typ: "button", text: "Save", layer: layerDialog})
	a.click(match{typ: "button", text: "Save", layer: layerDialog})

	// 6. Error: the new connection has no CA for the dev server; a client
	// on its port makes the tunnel fail, said in plain words with the fix.
	a.waitFor("the untrusted row", func(tr InspectTree) bool {
		return tr.topLayer() == 0 && tr.has(match{typ: "check", row: "untrusted"})
	})
	a.click(match{typ: "check", row: "untrusted"})
	a.waitFor("untrusted listening", func(tr InspectTree) bool {
		addr = localAddr(tr, "untrusted")
		return addr != "" && tr.has(match{typ: "label", text: "listening…", row: "untrusted"})
	})
	// The tunnel may fail and reset the connection before this side's
	// dial has even looked at its socket (a loaded machine), so a reset
	// here is the failure under test, not a broken listener.
	bad, err := net.DialTimeout("tcp", addr, 30*time.Second)
	switch {
	case errors.Is(err, syscall.ECONNRESET):
	case err != nil:
		t.Fatal(err)
	default:
		_ = bad.SetDeadline(time.Now().Add(3 * time.Minute))
		_, _ = bad.Write([]byte("hello?"))
		_, _ = io.Copy(io.Discard, bad) // the tunnel ends it
		bad.Close()
	}
	notTrusted := match{typ: "label", contains: "the server's certificate is not trusted", layer: layerMain}
	fix := match{typ: "label", contains: "add its CA", layer: layerMain}
	errTree := a.waitFor("the plain-words error", func(tr InspectTree) bool {
		n, ok := tr.find(match{typ: "label", text: "error: the server's certificate is not trusted", row: "untrusted"})
		return ok && n.Importance == "danger" && tr.has(notTrusted, fix)
	})
	for _, n := range errTree.Nodes {
		if n.Row == "" && n.Type == "label" && strings.Contains(n.Text, "x509") && !strings.Contains(n.Text, "Details") {
			t.Errorf("raw error in the open: %q; want it behind the details", n.Text)
		}
	}
	a.shoot("error", match{typ: "label", text: "error: the server's certificate is not trusted", row: "untrusted"}, fix)

	if out := a.out.String(); strings.Contains(out, "panic:") || strings.Contains(out, "user locale") {
		t.Errorf("pomerium-desktop output has a panic or locale warning:\n%s", out)
	}
}

// localAddr is the running local address row shows ("" while off).
func localAddr(tr InspectTree, row string) string {
	for _, n := range tr.Nodes {
		if n.Row == row && n.Type == "label" && strings.HasPrefix(n.Text, "127.0.0.1:") {
			if _, err := net.ResolveTCPAddr("tcp", n.Text); err == nil {
				return n.Text
			}
		}
	}
	return ""
}

// TestREADMEShowsDesktopScreenshots: every state the Xvfb test shoots is
// committed and shown in the README.
func TestREADMEShowsDesktopScreenshots(t *testing.T) {
	root := testutil.RepoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"empty", "import", "list", "connected", "add-form", "error"} {
		p := "docs/screenshots/desktop-" + name + ".png"
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("%v (made by PORTHOLE_UPDATE_SCREENSHOTS=1 go test ./gui -run TestDesktopStatesUnderXvfb)", err)
		}
		if !bytes.Contains(readme, []byte("("+p+")")) {
			t.Errorf("README.md does not show %s", p)
		}
	}
}

// TestInspectSettingRefused: a bad PORTHOLE_DESKTOP_INSPECT stops the
// real app before any window, with one line naming the setting.
func TestInspectSettingRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary under Xvfb")
	}
	xvfb := testutil.Require(t, "Xvfb")
	bin := testutil.BuildBinary(t, "pomerium-desktop")
	display := startXvfb(t, xvfb)
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"relative", "inspect.sock", "absolute socket path"},
		{"shared dir", filepath.Join(shared, "s"), "private (chmod 700)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			cmd := exec.Command(bin, "--connections", filepath.Join(home, "c.json"))
			cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "LANG=C.UTF-8", EnvInspect+"="+tc.path, "DBUS_SESSION_BUS_ADDRESS="+sessionBus(t))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || len(lines) != 1 ||
				!strings.HasPrefix(lines[0], "pomerium-desktop: "+EnvInspect) || !strings.Contains(lines[0], tc.want) || stdout.Len() != 0 {
				t.Errorf("got %v, stdout %q, stderr %q; want exit 1 and one line saying %q", err, stdout.String(), stderr.String(), tc.want)
			}
			if _, err := os.Stat(tc.path); err == nil {
				t.Errorf("%s was created", tc.path)
			}
		})
	}
}
