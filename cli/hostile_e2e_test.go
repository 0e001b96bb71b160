package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
)

// binRun runs the real pomerium-cli with envv and stdin, bounded by
// limit: a hang fails the test instead of stalling it.
func binRun(t *testing.T, limit time.Duration, envv []string, stdin *os.File, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	bin := testutil.BuildBinary(t, "pomerium-cli")
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = envv
	cmd.Stdin = stdin
	var errOut testutil.SyncBuffer
	cmd.Stderr = &errOut
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("pomerium-cli %q still running after %s; stderr %q", args, limit, errOut.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("pomerium-cli %q: %v", args, err)
	}
	t.Logf("pomerium-cli %q: exit %d in %s\nstderr: %s", args, cmd.ProcessState.ExitCode(), took, errOut.String())
	return cmd.ProcessState.ExitCode(), errOut.String(), took
}

func isolatedEnv(dir string) []string {
	return []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config", "XDG_CACHE_HOME=" + dir + "/cache",
		"POMERIUM_CLI_NO_KEYRING=1", "POMERIUM_CLI_CONNECTIONS=" + dir + "/connections.json", "PATH=" + os.Getenv("PATH")}
}

func assertOneErrorLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "Error: ") || strings.Count(stderr, "\n") > 2 {
		t.Errorf("stderr %q; want one Error: line (and at most a hint)", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q; want it to mention %q", stderr, w)
		}
	}
}

// Imports read regular files only, capped: /dev/zero and a FIFO are
// refused at once, stdin is capped, and nothing is saved.
func TestE2EImportBoundedInput(t *testing.T) {
	dir := t.TempDir()
	envv := isolatedEnv(dir)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	for _, tc := range []struct {
		name  string
		stdin *os.File
		args  []string
		want  string
	}{
		{"dev zero", nil, []string{"connections", "import", "/dev/zero"}, "a character device"},
		{"fifo", nil, []string{"connections", "import", fifo}, "a FIFO"},
		{"directory", nil, []string{"connections", "import", dir}, "a directory"},
		{"stdin from dev zero", zero, []string{"connections", "import", "-"}, "more than 16777216 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr, _ := binRun(t, 2*time.Minute, envv, tc.stdin, tc.args...)
			if code != 1 {
				t.Errorf("exit %d; want 1", code)
			}
			assertOneErrorLine(t, stderr, tc.want)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "connections.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused import wrote the store: %v", err)
	}
}

// Ctrl-C and SIGTERM end an import waiting on a stdin that never closes.
func TestE2EImportInterruptible(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close() // the writer stays open: stdin never ends
			cmd := exec.Command(bin, "connections", "import", "-")
			cmd.Env, cmd.Stdin = isolatedEnv(dir), pr
			var errOut testutil.SyncBuffer
			cmd.Stderr = &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pr.Close()
			if _, err := pw.Write([]byte(`{"version":1,`)); err != nil { // the import is under way
				t.Fatal(err)
			}
			// Once the bytes are out of the pipe the import is reading
			// stdin (its signal handling long set up).
			deadline := time.Now().Add(30 * time.Second)
			for pipeHolds(t, pw) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("the import never read its stdin")
				}
				<-time.After(20 * time.Millisecond) // poll interval
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("%s ignored for 30s; stderr %q", sig, errOut.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(errOut.String(), "Interrupted") {
				t.Errorf("after %s: exit %d, stderr %q; want 130 and Interrupted", sig, code, errOut.String())
			}
		})
	}
}

// A portal that trickles or goes silent ends routes list with an error
// within the configured bounds, never a wait without end.
func TestE2ETricklingPortal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		handler http.HandlerFunc
	}{
		{"body trickles a byte at a time", []string{"POMERIUM_CLI_HTTP_TIMEOUT=3s"}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fl := w.(http.Flusher)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < 3000; i++ { // bounded: 5 minutes at most
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				fl.Flush()
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
			}
		}},
		{"silent after the headers", []string{"POMERIUM_CLI_HTTP_STALL_TIMEOUT=1s"}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Minute):
			}
		}},
		{"silent before the headers", []string{"POMERIUM_CLI_HTTP_STALL_TIMEOUT=1s"}, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Minute):
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			portal, ca := testutil.FakePortal(t, tc.handler)
			envv := append(isolatedEnv(t.TempDir()), tc.env...)
			code, stderr, took := binRun(t, 2*time.Minute, envv, nil, "routes", "list", portal, "--alternate-ca-path", ca)
			if code != 1 {
				t.Errorf("exit %d; want 1", code)
			}
			assertOneErrorLine(t, stderr, "Error: listing routes at "+portal)
			if !strings.Contains(stderr, "timeout") && !strings.Contains(stderr, "deadline") {
				t.Errorf("stderr %q; want it to say the portal timed out", stderr)
			}
			if took > time.Minute {
				t.Errorf("took %s; want the bound (seconds) to end it", took)
			}
		})
	}
}

// `connections import --portal` with nobody to confirm fails naming
// --yes and saves nothing; with --yes it saves.
func TestE2EImportPortalNeedsYesWithoutTerminal(t *testing.T) {
	body, _ := json.Marshal(map[string]any{"routes": []portalclient.Route{
		{ID: "1", Name: "db", Type: "tcp", From: "tcp+https://proxy.example.com/db.internal:5432"},
	}})
	portal, ca := testutil.FakePortal(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	dir := t.TempDir()
	envv := isolatedEnv(dir)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	code, stderr, _ := binRun(t, 2*time.Minute, envv, devnull, "connections", "import", "--portal", portal, "--alternate-ca-path", ca)
	if code == 0 {
		t.Errorf("exit 0 with stdin /dev/null; want non-zero")
	}
	if !strings.Contains(stderr, "--yes") || strings.Contains(stderr, "Save these changes?") {
		t.Errorf("stderr %q; want the reason naming --yes and no pretend prompt", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "connections.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("store written without confirmation: %v", err)
	}
	code, stderr, _ = binRun(t, 2*time.Minute, envv, devnull, "connections", "import", "--portal", portal, "--alternate-ca-path", ca, "--yes")
	if code != 0 || !strings.Contains(stderr, "Saved: 1 added") {
		t.Errorf("with --yes: exit %d, stderr %q; want 0 and Saved: 1 added", code, stderr)
	}
}

// pipeHolds is how many bytes wait in the pipe (FIONREAD).
func pipeHolds(t *testing.T, f *os.File) int {
	t.Helper()
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ) // FIONREAD
	if err != nil {
		t.Fatalf("FIONREAD: %v", err)
	}
	return n
}

// Without a session bus no command starts a D-Bus or keyring daemon (the
// keyring library would autolaunch both, never to exit), and the file
// store is named once, not on every run.
func TestE2ENoDaemonsWithoutSessionBus(t *testing.T) {
	dir := t.TempDir()
	var envv []string
	for _, kv := range isolatedEnv(dir) {
		if !strings.HasPrefix(kv, "POMERIUM_CLI_NO_KEYRING=") {
			envv = append(envv, kv) // the keyring is allowed; no DBUS_SESSION_BUS_ADDRESS
		}
	}
	var notices int
	for i := 0; i < 5; i++ {
		args := []string{"cache", "location"}
		if i%2 == 1 {
			args = []string{"logout", "https://127.0.0.1:1"}
		}
		code, stderr, _ := binRun(t, 2*time.Minute, envv, nil, args...)
		if code != 0 {
			t.Fatalf("run %d: exit %d, stderr %q", i+1, code, stderr)
		}
		if strings.Contains(stderr, "Tokens are kept in files only you can read") {
			notices++
			if !strings.Contains(stderr, "no D-Bus session bus") || strings.Contains(stderr, "org.freedesktop") {
				t.Errorf("notice %q; want plain words naming the missing session bus", stderr)
			}
		}
	}
	if notices != 1 {
		t.Errorf("the file store was named %d times in 5 runs; want once", notices)
	}
	if leaked, pids := daemonsWithHome(t, dir); len(leaked) > 0 {
		killDaemons(pids)
		t.Errorf("daemons left behind by the runs: %q", leaked)
	}
}

// killDaemons ends the daemons a failing run left (they are this test's).
func killDaemons(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
}

// daemonsWithHome lists D-Bus and keyring processes whose environment
// holds HOME=dir, i.e. started on behalf of this test's runs.
func daemonsWithHome(t *testing.T, dir string) (names []string, pids []int) {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		if !strings.HasPrefix(name, "dbus-") && !strings.HasPrefix(name, "gnome-keyring") {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == "HOME="+dir {
				names = append(names, name+" (pid "+e.Name()+")")
				pids = append(pids, pid)
			}
		}
	}
	return names, pids
}
