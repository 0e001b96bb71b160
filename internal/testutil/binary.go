package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	binMu   sync.Mutex
	binDir  string
	binDone = map[string]string{}
)

// BuildBinary builds ./cmd/NAME once per test process and returns its path.
func BuildBinary(t testing.TB, name string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binDone[name]; ok {
		return p
	}
	if binDir == "" {
		sweepBinDirs()
		d, err := os.MkdirTemp("", fmt.Sprintf("porthole-bin-%d-", os.Getpid()))
		if err != nil {
			t.Fatalf("making bin dir: %v", err)
		}
		binDir = d
	}
	out := filepath.Join(binDir, name)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = RepoRoot(t)
	if name != "pomerium-desktop" {
		// As the Makefile builds them: static, the desktop app alone
		// with cgo.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, b)
	}
	binDone[name] = out
	return out
}

// RepoRoot is the module root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// sweepBinDirs removes the binary directories of test processes that
// have ended: a test process cannot remove its own at exit (no hook runs
// after the last test), and each holds tens of MiB of binaries.
func sweepBinDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "porthole-bin-*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), "porthole-bin-")
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue // not one of ours, or from before pids were in the name
		}
		if _, err := os.Stat(filepath.Join("/proc", pidText)); err == nil || !os.IsNotExist(err) {
			continue // that process still runs (or we cannot tell)
		}
		_ = os.RemoveAll(d)
	}
}
