// Package atomicfile replaces a file in one step, so a reader sees the
// old contents or the new ones, never half a file. The token cache and
// the CLI's last-server file use it.
//
//	err := atomicfile.Write(path, data, 0o600)
package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/porthole-dev/porthole/internal/bounded"
)

// Write makes path's directory (0700) when it is missing, writes data to
// a temp file there with mode perm, syncs it, renames it over path and
// syncs the directory so the rename survives a crash where the OS allows.
// Errors name path.
//
// When path is already a regular file with mode perm holding exactly
// data, nothing is written: a command that records the same state on
// every run (the last server, a token it just read) costs a read, not
// two syncs, a rename and a temp file.
func Write(path string, data []byte, perm os.FileMode) error {
	if unchanged(path, data, perm) {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // nothing left to remove after the rename
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// unchanged reports whether path is a regular file (not a link) with
// mode perm and contents data. Any doubt (an error, a size or mode that
// differs) is false: the caller then writes. The read opens without
// blocking and refuses what is not a regular file, should a FIFO take
// the file's place after the look.
func unchanged(path string, data []byte, perm os.FileMode) bool {
	li, err := os.Lstat(path)
	if err != nil || !li.Mode().IsRegular() || li.Mode().Perm() != perm.Perm() || li.Size() != int64(len(data)) {
		return false
	}
	got, err := bounded.ReadFile(path, int64(len(data)))
	return err == nil && bytes.Equal(got, data)
}
