package gui

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// The Xvfb harness: the real pomerium-desktop in a real X server, driven
// with xdotool (mouse and keyboard through XTEST, as a user's), observed
// through its inspection socket (EnvInspect) and ImageMagick screenshots.

// envBrowserCA makes the test binary the app's browser (--browser-cmd):
// TestMain then follows the sign-in URL it is given with a client trusting
// that CA file (the dev server signs in without a page) and exits.
const envBrowserCA = "PORTHOLE_TEST_BROWSER_CA"

// EnvUpdateScreenshots=1 makes the Xvfb tests write docs/screenshots/;
// otherwise they write artifacts/ and compare with the committed ones'
// structure (size), since fonts and anti-aliasing differ by machine.
const envUpdateScreenshots = "PORTHOLE_UPDATE_SCREENSHOTS"

func TestMain(m *testing.M) {
	if caFile := os.Getenv(envBrowserCA); caFile != "" && len(os.Args) == 2 {
		os.Exit(browseSignIn(caFile, os.Args[1]))
	}
	os.Exit(m.Run())
}

// browseSignIn is the browser stand-in: it follows u to the app's
// loopback callback.
func browseSignIn(caFile, u string) int {
	pem, err := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		fmt.Fprintf(os.Stderr, "browser stand-in: CA %s: %v\n", caFile, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, _, err := testutil.Browse(ctx, pool, u); err != nil {
		fmt.Fprintf(os.Stderr, "browser stand-in: %v\n", err)
		return 1
	}
	return 0
}

// xApp is one pomerium-desktop under Xvfb.
type xApp struct {
	t        *testing.T
	display  string
	win      string // X window id
	sock     string // inspection socket
	exited   chan error
	out      *testutil.SyncBuffer
	xdotool  string
	importer string // ImageMagick import
	last     InspectTree
	why      string // what the last failed check saw, for waitFor's message
}

// startXApp starts Xvfb and the app with HOME=home, signing in through
// the test binary (TestMain) trusting caFile, and waits for its window.
func startXApp(t *testing.T, home, caFile string) *xApp {
	t.Helper()
	xvfb := testutil.Require(t, "Xvfb")
	a := &xApp{t: t, xdotool: testutil.Require(t, "xdotool"), importer: testutil.Require(t, "import"),
		exited: make(chan error, 1), out: &testutil.SyncBuffer{}}
	bin := testutil.BuildBinary(t, "pomerium-desktop")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short (108 bytes): not under t.TempDir().
	sockDir, err := os.MkdirTemp("", "porthole-inspect")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	a.sock = filepath.Join(sockDir, "s")

	a.display = startXvfb(t, xvfb)
	cmd := exec.Command(bin, "--browser-cmd", "'"+self+"'")
	cmd.Env = append(os.Environ(),
		"DISPLAY="+a.display, "LIBGL_ALWAYS_SOFTWARE=1", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), EnvNoKeyring+"=1", connections.EnvPath+"=",
		"LANG=C.UTF-8", EnvInspect+"="+a.sock, envBrowserCA+"="+caFile, "DBUS_SESSION_BUS_ADDRESS="+sessionBus(t))
	cmd.Stdout, cmd.Stderr = a.out, a.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.exited:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-a.exited
		}
		if t.Failed() {
			t.Logf("pomerium-desktop output:\n%s", a.out.String())
		}
	})

	// search --sync waits for the window itself; the context bounds it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	found := make(chan string, 1)
	go func() {
		ids, _ := a.x(ctx, "search", "--sync", "--onlyvisible", "--name", "^"+WindowTitle+"$")
		found <- ids
	}()
	select {
	case ids := <-found:
		if ids == "" {
			t.Fatalf("no %q window within 2 minutes", WindowTitle)
		}
		a.win = strings.Fields(ids)[0]
	case err := <-a.exited:
		t.Fatalf("pomerium-desktop exited (%v) before its window showed:\n%s", err, a.out.String())
	}
	return a
}

// x runs xdotool on the app's display.
func (a *xApp) x(ctx context.Context, args ...string) (string, error) {
	c := exec.CommandContext(ctx, a.xdotool, args...)
	c.Env = append(os.Environ(), "DISPLAY="+a.display)
	b, err := c.Output()
	return strings.TrimSpace(string(b)), err
}

func (a *xApp) xdo(args ...string) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := a.x(ctx, args...); err != nil {
		a.t.Fatalf("xdotool %q: %v %s", args, err, out)
	}
}

// tree asks the app's inspection socket for its widgets.
func (a *xApp) tree() (InspectTree, error) {
	c, err := net.DialTimeout("unix", a.sock, 30*time.Second)
	if err != nil {
		return InspectTree{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.WriteString(c, "tree\n"); err != nil {
		return InspectTree{}, err
	}
	var tr InspectTree
	err = json.NewDecoder(io.LimitReader(c, 16<<20)).Decode(&tr)
	return tr, err
}

// waitFor polls the widget tree until cond holds, failing after two
// minutes or when the app exits.
func (a *xApp) waitFor(what string, cond func(InspectTree) bool) InspectTree {
	a.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var lastErr error
	for {
		tr, err := a.tree()
		if err == nil {
			a.last = tr
			if cond(tr) {
				return tr
			}
		}
		lastErr = err
		select {
		case err := <-a.exited:
			a.t.Fatalf("pomerium-desktop exited (%v) while waiting for %s:\n%s", err, what, a.out.String())
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out waiting for %s (last error %v; %s); the window shows:\n%s", what, lastErr, a.why, a.last.summary())
		}
	}
}

// summary lists the texts a tree shows, for failure messages.
func (tr InspectTree) summary() string {
	var b strings.Builder
	for _, n := range tr.Nodes {
		fmt.Fprintf(&b, "  L%d %s %q row=%q form=%q disabled=%v checked=%v at %.0f,%.0f %.0fx%.0f\n",
			n.Layer, n.Type, n.Text, n.Row, n.FormLabel, n.Disabled, n.Checked, n.X, n.Y, n.W, n.H)
	}
	return b.String()
}

// match selects nodes: every non-empty field must hold (Text exactly,
// or as a prefix when it ends in "…").
type match struct {
	typ, text, contains, row, form, importance string
	layer                                      int // -1: any layer; else that one
}

func (m match) ok(n InspectNode) bool {
	text := m.text == "" || n.Text == m.text ||
		strings.HasSuffix(m.text, "…") && strings.HasPrefix(n.Text, strings.TrimSuffix(m.text, "…"))
	return text && (m.typ == "" || n.Type == m.typ) && strings.Contains(n.Text, m.contains) &&
		(m.row == "" || n.Row == m.row) && (m.importance == "" || n.Importance == m.importance) && (m.form == "" || n.FormLabel == m.form) &&
		(m.layer < 0 || n.Layer == m.layer) && n.Onscreen
}

func (m match) String() string {
	return fmt.Sprintf("%s text=%q contains=%q row=%q form=%q layer=%d", m.typ, m.text, m.contains, m.row, m.form, m.layer)
}

// find is the first on-screen node m selects.
func (tr InspectTree) find(m match) (InspectNode, bool) {
	for _, n := range tr.Nodes {
		if m.ok(n) {
			return n, true
		}
	}
	return InspectNode{}, false
}

func (tr InspectTree) has(ms ...match) bool {
	for _, m := range ms {
		if _, ok := tr.find(m); !ok {
			return false
		}
	}
	return true
}

// topLayer is the top overlay (an open dialog), 0 without one.
func (tr InspectTree) topLayer() int {
	top := 0
	for _, n := range tr.Nodes {
		top = max(top, n.Layer)
	}
	return top
}

// click waits for an enabled node m selects and clicks its middle.
func (a *xApp) click(m match) {
	a.t.Helper()
	var n InspectNode
	tr := a.waitFor("an enabled "+m.String(), func(tr InspectTree) bool {
		var ok bool
		n, ok = tr.find(m)
		return ok && !n.Disabled
	})
	x, y := int((n.X+n.W/2)*tr.Scale), int((n.Y+n.H/2)*tr.Scale)
	a.xdo("mousemove", "--window", a.win, fmt.Sprint(x), fmt.Sprint(y), "click", "1")
}

// typeInto clicks the entry m selects, waits for it to have the focus,
// types text (replacing what it had) and waits until it holds text.
func (a *xApp) typeInto(m match, text string) {
	a.t.Helper()
	m.typ = "entry"
	a.click(m)
	focused := m
	tr := a.waitFor("focus in "+m.String(), func(tr InspectTree) bool {
		n, ok := tr.find(focused)
		return ok && n.Focused
	})
	if n, _ := tr.find(m); n.Text != "" {
		a.xdo("key", "--clearmodifiers", "ctrl+a")
	}
	a.xdo("type", "--delay", "20", "--", text)
	a.waitFor(fmt.Sprintf("%q in %s", text, m), func(tr InspectTree) bool {
		n, ok := tr.find(m)
		return ok && n.Text == text
	})
}

// shoot takes a screenshot of the window once it settles on what the
// tree says (the same tree before and after it) and every node inked
// selects has ink in its rectangle: the picture shows those widgets
// where the app says they are. It saves the PNG and returns the tree.
func (a *xApp) shoot(name string, inked ...match) InspectTree {
	a.t.Helper()
	var shot []byte
	var problem string
	defer func() { a.why = "" }()
	defer func() {
		if a.t.Failed() && shot != nil { // what it looked like, to see why
			_ = os.WriteFile(filepath.Join(testutil.RepoRoot(a.t), "artifacts", "desktop-"+name+"-failed.png"), shot, 0o644)
		}
	}()
	tr := a.waitFor("a screenshot showing "+name, func(before InspectTree) bool {
		b, err := exec.Command(a.importer, "-display", a.display, "-window", a.win, "png:-").Output()
		if err != nil {
			problem = "import: " + err.Error()
			return false
		}
		after, err := a.tree()
		if err != nil || !reflect.DeepEqual(before, after) {
			problem = "the window changed while the screenshot was taken"
			a.why = problem
			return false
		}
		shot = b
		problem = screenshotProblem(b, after, inked)
		a.why = problem
		return problem == ""
	})
	if problem != "" {
		a.t.Fatalf("screenshot %s: %s", name, problem)
	}
	saveScreenshot(a.t, name, shot)
	return tr
}

// screenshotProblem checks a screenshot against the tree it shows: the
// window's size and ink (text or icon pixels) inside each node inked
// selects; "" when it holds.
func screenshotProblem(b []byte, tr InspectTree, inked []match) string {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "decoding: " + err.Error()
	}
	size := img.Bounds().Size()
	if w, h := int(tr.W*tr.Scale+0.5), int(tr.H*tr.Scale+0.5); abs(size.X-w) > 2 || abs(size.Y-h) > 2 {
		return fmt.Sprintf("size %v; want the canvas's %dx%d", size, w, h)
	}
	for _, m := range inked {
		n, ok := tr.find(m)
		if !ok {
			return "nothing shown for " + m.String()
		}
		r := image.Rect(int(n.X*tr.Scale), int(n.Y*tr.Scale), int((n.X+n.W)*tr.Scale), int((n.Y+n.H)*tr.Scale))
		if got := inkPixels(img, r); got < 12 {
			return fmt.Sprintf("%s %q at %v: %d ink pixels; want its text drawn there", n.Type, n.Text, r, got)
		}
	}
	return ""
}

// inkPixels counts the pixels in r that stand out from r's most common
// colour (its background).
func inkPixels(img image.Image, r image.Rectangle) int {
	r = r.Intersect(img.Bounds())
	count := map[[3]uint32]int{}
	var bg [3]uint32
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgb(img, x, y)
			count[c]++
			if count[c] > count[bg] {
				bg = c
			}
		}
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgb(img, x, y)
			if d := absDiff(c[0], bg[0]) + absDiff(c[1], bg[1]) + absDiff(c[2], bg[2]); d > 40 {
				n++
			}
		}
	}
	return n
}

func rgb(img image.Image, x, y int) [3]uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint32{r >> 8, g >> 8, b >> 8}
}

func absDiff(a, b uint32) int { return abs(int(a) - int(b)) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// saveScreenshot writes artifacts/desktop-NAME.png, and
// docs/screenshots/desktop-NAME.png when envUpdateScreenshots=1; else the
// committed one must exist and have the same size (fonts differ by
// machine, so pixels are not compared).
func saveScreenshot(t *testing.T, name string, shot []byte) {
	t.Helper()
	root := testutil.RepoRoot(t)
	file := "desktop-" + name + ".png"
	artifacts := filepath.Join(root, "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, file), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	docs := filepath.Join(root, "docs", "screenshots", file)
	if os.Getenv(envUpdateScreenshots) == "1" {
		if err := os.MkdirAll(filepath.Dir(docs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docs, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", docs)
		return
	}
	committed, err := os.ReadFile(docs)
	if err != nil {
		t.Errorf("%v: make it with %s=1 go test ./gui -run TestDesktopStatesUnderXvfb", err, envUpdateScreenshots)
		return
	}
	old, err1 := png.DecodeConfig(bytes.NewReader(committed))
	now, err2 := png.DecodeConfig(bytes.NewReader(shot))
	if err1 != nil || err2 != nil || old.Width != now.Width || old.Height != now.Height {
		t.Errorf("%s: committed %dx%d (%v), now %dx%d (%v): regenerate with %s=1", docs, old.Width, old.Height, err1, now.Width, now.Height, err2, envUpdateScreenshots)
	}
}
