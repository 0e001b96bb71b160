package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSweepBinDirs: the binaries of a test process that has ended are
// removed; those of a running one, and directories not named by a pid,
// are kept.
func TestSweepBinDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(tmp, fmt.Sprintf("porthole-bin-%d-1", ended.Process.Pid))
	live := filepath.Join(tmp, fmt.Sprintf("porthole-bin-%d-2", os.Getpid()))
	old := filepath.Join(tmp, "porthole-bin-123abc")
	for _, d := range []string{dead, live, old} {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sweepBinDirs()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("%s: %v; want removed (its process ended)", dead, err)
	}
	for _, d := range []string{live, old} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v; want kept", d, err)
		}
	}
}
