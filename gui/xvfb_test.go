package gui

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// TestDesktopUnderXvfb runs the real pomerium-desktop in a real X server
// against the dev server, with saved connections (one started at launch),
// screenshots the main window into artifacts/desktop-main.png, checks the
// window and the picture, and ends the app with SIGTERM (exit 0).
func TestDesktopUnderXvfb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary under Xvfb")
	}
	xvfb := testutil.Require(t, "Xvfb")
	xdotool := testutil.Require(t, "xdotool")
	importCmd := testutil.Require(t, "import") // ImageMagick
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	bin := testutil.BuildBinary(t, "pomerium-desktop")

	home := t.TempDir()
	store := connections.NewStore(filepath.Join(home, ".config", "pomerium-cli", "connections.json"))
	echoPort := testutil.FreeAddr(t)
	dest := func(route string) string { return "tcp+https://" + ds.Addr + "/" + route }
	for _, c := range []connections.Connection{
		{Name: "echo", Destination: dest("echo.internal:7000"), ListenAddr: echoPort, Tags: []string{"dev"}, Autostart: true, TLS: tlsCA(ds.CAFile)},
		{Name: "admin-echo", Destination: dest("admin-echo.internal:7001"), Tags: []string{"dev", "admin"}, TLS: tlsCA(ds.CAFile)},
		{Name: "postgres (prod)", Destination: "tcp+https://proxy.example.com/pg.internal:5432", Tags: []string{"db", "prod"}},
		{Name: "rdp desktop", Destination: "tcp+https://proxy.example.com/desk.internal:3389"},
	} {
		if _, err := store.Put(c); err != nil {
			t.Fatal(err)
		}
	}

	display := startXvfb(t, xvfb)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"DISPLAY="+display, "LIBGL_ALWAYS_SOFTWARE=1", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), EnvNoKeyring+"=1", connections.EnvPath+"=",
		"LANG=C.UTF-8", "DBUS_SESSION_BUS_ADDRESS="+sessionBus(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		t.Logf("pomerium-desktop output:\n%s", out.String())
	})

	x := func(name string, args ...string) (string, error) {
		c := exec.Command(name, args...)
		c.Env = append(os.Environ(), "DISPLAY="+display)
		b, err := c.Output()
		return strings.TrimSpace(string(b)), err
	}
	var win string
	poll(t, exited, "the Porthole window", func() bool {
		ids, err := x(xdotool, "search", "--name", "Porthole")
		if err != nil || ids == "" {
			return false
		}
		win = strings.Fields(ids)[0]
		return true
	})
	title, err := x(xdotool, "getwindowname", win)
	if err != nil || !strings.Contains(title, "Porthole") {
		t.Errorf("window title: got %q (%v); want it to contain Porthole", title, err)
	}
	// Docks match the window to the .desktop entry by WM_CLASS.
	xprop := testutil.Require(t, "xprop")
	class, err := x(xprop, "-id", win, "WM_CLASS")
	if want := desktopEntry(t)["StartupWMClass"]; err != nil || want == "" || !strings.Contains(class, `"`+want+`"`) {
		t.Errorf("WM_CLASS: got %q (%v); want the .desktop file's StartupWMClass %q", class, err, want)
	}
	// The autostarted connection is listening once its port is in the
	// kernel's table. (Connecting to it would start a sign-in.)
	poll(t, exited, "the autostarted echo listener", func() bool { return listening(t, echoPort) })

	// Take screenshots of the main window (not the whole screen) until two
	// in a row are the same (drawing settled) and the picture is far from
	// blank.
	var shot []byte
	var colours int
	var size image.Point
	poll(t, exited, "a settled, non-blank screenshot", func() bool {
		b, err := exec.Command(importCmd, "-display", display, "-window", win, "png:-").Output()
		if err != nil {
			return false
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return false
		}
		n := distinctColours(img)
		same := shot != nil && bytes.Equal(b, shot)
		shot, colours, size = b, n, img.Bounds().Size()
		return same && n > 64
	})
	if size.X < 800 || size.Y < 500 || size.X >= 1280 && size.Y >= 800 {
		t.Errorf("screenshot: got %v; want the window (about 1100x680), not a sliver or the whole 1280x800 screen", size)
	}
	artifacts := filepath.Join(testutil.RepoRoot(t), "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifacts, "desktop-main.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%v, %d distinct colours)", path, size, colours)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("pomerium-desktop after SIGTERM: got %v; want exit 0", err)
		}
		// LANG=C.UTF-8 above: no "Error parsing user locale" (issue 18).
		if strings.Contains(out.String(), "user locale") || strings.Contains(out.String(), "panic:") {
			t.Errorf("pomerium-desktop output has a locale warning or a panic:\n%s", out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("pomerium-desktop did not exit within 60s of SIGTERM")
	}
	if listening(t, echoPort) {
		t.Errorf("echo listener %s still open after the app quit", echoPort)
	}
}

func tlsCA(file string) tlsconfig.Options { return tlsconfig.Options{CAFile: file} }

// startXvfb starts Xvfb on a display number it picks itself (-displayfd)
// and returns ":N"; it is stopped at cleanup.
func startXvfb(t *testing.T, xvfb string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -noreset: the server would otherwise reset when its last client
	// leaves, refusing a client that starts right then.
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset",
		// No key autorepeat: under load xdotool's key up can come late.
		"-ardelay", "3600000")
	cmd.ExtraFiles = []*os.File{w}
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatalf("Xvfb gave no display number: %s", errBuf.String())
		}
		return ":" + n
	case <-time.After(60 * time.Second):
		t.Fatalf("Xvfb did not start within 60s: %s", errBuf.String())
	}
	return ""
}

// poll checks cond until it holds, failing when the app exits first or
// after a generous deadline.
func poll(t *testing.T, exited <-chan error, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("pomerium-desktop exited (%v) while waiting for %s", err, what)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func distinctColours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	return len(seen)
}

// listening reports whether a TCP socket listens on addr (127.0.0.1:PORT),
// from /proc/net/tcp.
func listening(t *testing.T, addr string) bool {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	want := fmt.Sprintf("0100007F:%04X", p)
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatalf("reading /proc/net/tcp: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == want && f[3] == "0A" {
			return true
		}
	}
	return false
}
