package server_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestBinaryConfigCheckAndSIGHUP: `pomerium-server config check` on a
// good and a broken file, then a server started from the file reloads
// on SIGHUP (with the file unchanged, so only the signal can cause it).
func TestBinaryConfigCheckAndSIGHUP(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-server")
	e := &routeEnv{t: t, dir: t.TempDir(), pki: newPKI(t, "bin CA")}
	a, _ := upstream(t, echoHandler("a"), nil)
	good := filepath.Join(e.dir, "good.yaml")
	yml := e.header() + "routes:\n  - from: https://a.localhost\n    to: http://" + a + "\n    allow_public_unauthenticated_access: true\n"
	os.WriteFile(good, []byte(yml), 0o600)
	bad := filepath.Join(e.dir, "bad.yaml")
	os.WriteFile(bad, []byte(yml+"    lb_policy: FASTEST\n"), 0o600)

	out, err := exec.Command(bin, "config", "check", good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "good.yaml: ok (1 routes)") {
		t.Errorf("config check good: %v %q; want exit 0 and ok (1 routes)", err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "config", "check", bad)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "lb_policy: want one of ROUND_ROBIN") || stdout.Len() != 0 {
		t.Errorf("config check bad: %v, stdout %q, stderr %q; want exit 1 naming lb_policy", err, stdout.String(), stderr.String())
	}

	srv := exec.Command(bin, "--config", good, "--address", "127.0.0.1:0")
	pipe, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	lines := make(chan string, 200)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	waitFor := func(want string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("server exited before logging %q", want)
				}
				if strings.Contains(l, want) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q within 30s", want)
			}
		}
	}
	waitFor("msg=serving")
	srv.Process.Signal(syscall.SIGHUP)
	waitFor("config: SIGHUP, reloading")
	waitFor("config reloaded")
	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, pipe); done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30s of SIGTERM")
	}
}
