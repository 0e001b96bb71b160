package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
		d, err := os.MkdirTemp("", "porthole-bin-")
		if err != nil {
			t.Fatalf("making bin dir: %v", err)
		}
		binDir = d
	}
	out := filepath.Join(binDir, name)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = RepoRoot(t)
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
