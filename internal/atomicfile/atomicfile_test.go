package atomicfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// A write of what the file already holds leaves it alone (same inode,
// same mtime); anything else about it that differs gets it rewritten.
func TestWriteSkipsOnlyAnIdenticalFile(t *testing.T) {
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		setup    func(t *testing.T, path string) // makes what is at path before the write
		data     string
		wantSkip bool
	}{
		{"same bytes and mode", func(t *testing.T, p string) { put(t, p, "abc\n", 0o600) }, "abc\n", true},
		{"empty and empty", func(t *testing.T, p string) { put(t, p, "", 0o600) }, "", true},
		{"same bytes, wider mode", func(t *testing.T, p string) { put(t, p, "abc\n", 0o644) }, "abc\n", false},
		{"same length, other bytes", func(t *testing.T, p string) { put(t, p, "abd\n", 0o600) }, "abc\n", false},
		{"data is a prefix of the file", func(t *testing.T, p string) { put(t, p, "abc\nmore", 0o600) }, "abc\n", false},
		{"the file is a prefix of data", func(t *testing.T, p string) { put(t, p, "ab", 0o600) }, "abc\n", false},
		{"a link to an identical file", func(t *testing.T, p string) {
			target := p + ".target"
			put(t, target, "abc\n", 0o600)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, "abc\n", false},
		{"a FIFO, never opened", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", false},
		{"a directory", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			tt.setup(t, path)
			before, _ := os.Lstat(path)
			err := atomicfile.Write(path, []byte(tt.data), 0o600)
			if tt.name == "a directory" {
				if err == nil {
					t.Fatal("Write over a directory: no error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			after, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			skipped := os.SameFile(before, after) && after.ModTime().Equal(old)
			if skipped != tt.wantSkip {
				t.Fatalf("skipped = %v, want %v (mtime %v, same file %v)", skipped, tt.wantSkip, after.ModTime(), os.SameFile(before, after))
			}
			if !after.Mode().IsRegular() || after.Mode().Perm() != 0o600 {
				t.Fatalf("after Write: mode %v, want a regular 0600 file", after.Mode())
			}
			if b, _ := os.ReadFile(path); string(b) != tt.data {
				t.Fatalf("after Write: %q, want %q", b, tt.data)
			}
			if target := path + ".target"; tt.name == "a link to an identical file" {
				if b, _ := os.ReadFile(target); string(b) != "abc\n" {
					t.Fatalf("the link's target changed: %q", b)
				}
			}
		})
	}
}

// put writes data with mode perm and an old mtime, so a rewrite shows.
func put(t *testing.T, path, data string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}
