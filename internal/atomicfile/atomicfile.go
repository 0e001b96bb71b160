// Package atomicfile replaces a file in one step, so a reader sees the
// old contents or the new ones, never half a file. The token cache and
// the CLI's last-server file use it.
//
//	err := atomicfile.Write(path, data, 0o600)
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write makes path's directory (0700) when it is missing, writes data to
// a temp file there with mode perm, syncs it, renames it over path and
// syncs the directory so the rename survives a crash where the OS allows.
// Errors name path.
func Write(path string, data []byte, perm os.FileMode) error {
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
