package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/porthole-dev/porthole/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "f")
	for _, data := range []string{"first\n", "second\n"} {
		if err := atomicfile.Write(path, []byte(data), 0o600); err != nil {
			t.Fatalf("Write(%q): %v", data, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != data {
			t.Fatalf("after Write(%q): got %q, %v; want %q", data, b, err, data)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file: got %v, %v; want mode 0600", fi, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir: got %v, %v; want mode 0700", fi, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("dir holds %d entries; want only the file (no temp file left)", len(ents))
	}
}
