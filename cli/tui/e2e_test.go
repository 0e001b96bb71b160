package tui_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// tmuxPane is the real pomerium-cli running in a private tmux server.
type tmuxPane struct {
	t    *testing.T
	tmux string
	sock string
}

func startPane(t *testing.T, name string, envv []string, argv []string) *tmuxPane {
	t.Helper()
	tm := testutil.Require(t, "tmux")
	dir := t.TempDir()
	// The wrapper keeps the pane open after the command exits so its exit
	// code and what it printed on stdout can be read.
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	// The pane stands for a person's terminal: CI (set by CI runs, and
	// passed on by tmux) makes termenv treat it as no terminal and drop
	// every style, so the highlighting under test would vanish.
	b.WriteString("unset CI\n")
	for _, e := range envv {
		fmt.Fprintf(&b, "export %s\n", shq(e))
	}
	for i, a := range argv {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(shq(a))
	}
	b.WriteString("\necho \"EXIT:$?\"\nread x\n")
	wrapper := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(wrapper, []byte(b.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	p := &tmuxPane{t: t, tmux: tm, sock: fmt.Sprintf("porthole-%s-%d-%d", name, os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() { _ = exec.Command(tm, "-L", p.sock, "kill-server").Run() })
	p.run("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-s", "pick", wrapper)
	return p
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (p *tmuxPane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-L", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (p *tmuxPane) capture(extra ...string) string {
	p.t.Helper()
	return p.run(append([]string{"capture-pane", "-p", "-t", "pick"}, extra...)...)
}

func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	p.run(append([]string{"send-keys", "-t", "pick"}, keys...)...)
}

// waitFor polls the screen until re matches, failing with the last screen.
func (p *tmuxPane) waitFor(what string, re *regexp.Regexp) []string {
	p.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = p.capture()
		if m := re.FindStringSubmatch(screen); m != nil {
			p.t.Logf("screen at %s:\n%s", what, screen)
			return m
		}
		<-time.After(100 * time.Millisecond) // poll interval, not a wait for an outcome
	}
	p.t.Fatalf("%s: %q not on screen within 90s; screen:\n%s", what, re, screen)
	return nil
}

// waitUntil polls the screen until check passes, failing with its last
// complaint and the screen.
func (p *tmuxPane) waitUntil(what string, check func(screen string) error) string {
	p.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var screen string
	var err error
	for time.Now().Before(deadline) {
		screen = p.capture()
		if err = check(screen); err == nil {
			p.t.Logf("screen at %s:\n%s", what, screen)
			return screen
		}
		<-time.After(100 * time.Millisecond) // poll interval, not a wait for an outcome
	}
	p.t.Fatalf("%s: not within 90s: %v; screen:\n%s", what, err, screen)
	return ""
}

func TestPickE2E(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	curl := testutil.Require(t, "curl")
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	dir := t.TempDir()
	browser, envv := signInSetup(t, curl, ds.CAFile, dir)
	p := startPane(t, "e2e", envv, []string{bin, "routes", "pick", ds.URL.String(),
		"--alternate-ca-path", ds.CAFile, "--browser-cmd", browser})

	m := p.waitFor("routes listed", regexp.MustCompile(`(\d+) of (\d+) routes`))
	if m[1] != m[2] || m[1] == "0" {
		t.Errorf("count before filtering: got %s of %s; want all of several", m[1], m[2])
	}
	screen := p.capture()
	for _, want := range []string{"Routes", "Saved", "NAME", "echo", "admin-echo", "? help"} {
		if !strings.Contains(screen, want) {
			t.Errorf("list screen: missing %q:\n%s", want, screen)
		}
	}

	// The screen follows a resize: wider shows more of the FROM column.
	p.run("resize-window", "-t", "pick", "-x", "120", "-y", "30")
	p.waitFor("resized wider", regexp.MustCompile(`tcp\+https://127\.0\.0\.1:\d+/echo\.internal:7`))
	p.run("resize-window", "-t", "pick", "-x", "80", "-y", "24")
	// Back at 80 columns FROM is cut in the middle: the destination stays.
	p.waitFor("resized back", regexp.MustCompile(`(?m)^> echo +tcp +tcp\+https://127[^ ]*…/echo\.internal:7000 TCP echo: every byte come…$`))

	p.keys("?")
	p.waitFor("full help", regexp.MustCompile(`clear filter[\s\S]*reload`))
	p.keys("?")
	p.waitFor("short help", regexp.MustCompile(`enter open • / filter`))

	p.keys("-l", "echo")
	p.waitFor("filtered", regexp.MustCompile(`(?m)filter: echo.*of \d+ routes[\s\S]*^> echo +tcp`))

	p.keys("Enter")
	p.waitFor("address prompt", regexp.MustCompile(`listen on: 127\.0\.0\.1:0`))
	// The address is edited in place: cleared, typed with a slip, the slip
	// taken back.
	p.keys("C-u")
	p.waitFor("address cleared", regexp.MustCompile(`(?m)listen on: *$`))
	p.keys("-l", "127.0.0.1:09")
	p.keys("BSpace")
	p.waitFor("address retyped", regexp.MustCompile(`(?m)listen on: 127\.0\.0\.1:0 *$`))

	p.keys("Enter")
	m = p.waitFor("tunnel panel", regexp.MustCompile(`Local address:  (127\.0\.0\.1:\d+)[\s\S]*State: +listening`))
	addr := m[1]

	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatalf("dial the shown local address %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	const msg = "hello through the picker\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != msg {
		t.Fatalf("echo through %s: got %q, %v; want %q", addr, got, err, msg)
	}
	p.waitFor("active connection", regexp.MustCompile(`1 active, 1 total[\s\S]*connected #1`))
	c.Close()
	p.waitFor("closed connection", regexp.MustCompile(`0 active, 1 total[\s\S]*closed #1 .*sent 25 B, received 25 B`))

	p.keys("q")
	p.waitFor("back to the list", regexp.MustCompile(`stopped echo`))
	if _, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		t.Errorf("local address %s still accepts after q", addr)
	}

	p.keys("c")
	p.waitFor("copied", regexp.MustCompile(`copied: pomerium-cli tcp tcp\+https://`))
	p.keys("q")
	m = p.waitFor("exit", regexp.MustCompile(`(pomerium-cli tcp tcp\+https://\S+/echo\.internal:7000)\s+EXIT:(\d+)`))
	if m[2] != "0" {
		t.Errorf("exit code: got %s; want 0", m[2])
	}
}

// signInSetup writes a --browser-cmd that signs in with curl (the dev
// server logs in automatically) and returns it with an environment that
// keeps the binary's config, cache and connections store inside dir.
func signInSetup(t *testing.T, curl, caFile, dir string) (browser string, envv []string) {
	t.Helper()
	browser = filepath.Join(dir, "browser")
	script := "#!/bin/sh\nfor url; do :; done\nexec " + shq(curl) + " -sS -L --max-time 120 --cacert " + shq(caFile) +
		" -c " + shq(dir+"/jar") + " -b " + shq(dir+"/jar") + " -o /dev/null \"$url\"\n"
	if err := os.WriteFile(browser, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	envv = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config", "XDG_CACHE_HOME=" + dir + "/cache",
		"POMERIUM_CLI_NO_KEYRING=1", "POMERIUM_CLI_CONNECTIONS=" + dir + "/connections.json", "TERM=xterm-256color"}
	return browser, envv
}

func TestPickNoTTY(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	dir := t.TempDir()
	cmd := exec.Command(bin, "routes", "pick", "https://proxy.example.com")
	cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	if err == nil || code != 1 {
		t.Errorf("exit code: got %d (%v); want 1", code, err)
	}
	want := "routes pick needs a terminal; use `pomerium-cli routes list` instead"
	if !strings.Contains(string(out), want) {
		t.Errorf("output: got %q; want it to hold %q", out, want)
	}
}

// TestPickDumbTerminal checks that TERM=dumb gets no colour codes.
func TestPickDumbTerminal(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	dir := t.TempDir()
	envv := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config", "XDG_CACHE_HOME=" + dir + "/cache",
		"POMERIUM_CLI_NO_KEYRING=1", "POMERIUM_CLI_CONNECTIONS=" + dir + "/connections.json", "TERM=dumb"}
	p := startPane(t, "dumb", envv, []string{bin, "routes", "pick", ds.URL.String(),
		"--alternate-ca-path", ds.CAFile, "--no-browser", "--login-timeout", "2m"})
	p.waitFor("sign-in URL shown", regexp.MustCompile(`Sign in to continue:\s+https://`))
	screen := p.capture("-e")
	if loc := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m`).FindStringIndex(screen); loc != nil {
		t.Errorf("TERM=dumb: colour code %q on screen:\n%q", screen[loc[0]:loc[1]], screen)
	}
	p.keys("C-c")
	p.waitFor("exit", regexp.MustCompile(`EXIT:0`))
}
