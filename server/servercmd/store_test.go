package servercmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/server/store"
)

// A damaged embedded store stops start-up with one line naming the file
// and what to do, and the file is left as it was.
func TestServeRefusesDamagedStore(t *testing.T) {
	tests := []struct {
		name string
		args func(dir string) []string
	}{
		{"--dev in its dev dir", func(dir string) []string {
			return []string{"--dev", "--dev-dir", dir, "--address", "127.0.0.1:0"}
		}},
		{"--dev with --data-dir", func(dir string) []string {
			return []string{"--dev", "--dev-dir", t.TempDir(), "--data-dir", dir, "--address", "127.0.0.1:0"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, store.FileName)
			junk := []byte("not a database\x00\x01 but someone's notes\n")
			if err := os.WriteFile(path, junk, 0o600); err != nil {
				t.Fatal(err)
			}
			var out, stderr bytes.Buffer
			code := Run(context.Background(), NewFactory(nil, &out, &stderr), tc.args(dir))
			if code != ExitError {
				t.Fatalf("exit code %d; want %d (stderr %q)", code, ExitError, stderr.String())
			}
			last := strings.TrimSpace(stderr.String())
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				last = last[i+1:]
			}
			if !strings.Contains(last, path) || !strings.Contains(last, "move it away") {
				t.Fatalf("error line %q; want the path %s and what to do", last, path)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, junk) {
				t.Fatal("the damaged store file was changed")
			}
		})
	}
}
