package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const lastServerFile = "last-server"

func (f *Factory) configDir() (string, error) {
	if f.ConfigDir != "" {
		return f.ConfigDir, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config dir: %w", err)
	}
	return filepath.Join(d, "pomerium-cli"), nil
}

// LastServer is the server URL remembered by SaveLastServer, or "".
func (f *Factory) LastServer() (string, error) {
	d, err := f.configDir()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(d, lastServerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the last server URL: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SaveLastServer remembers u for commands run without a server URL. The
// file is replaced atomically (temp file in the same dir, then rename).
func (f *Factory) SaveLastServer(u string) error {
	d, err := f.configDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("saving the last server URL: %w", err)
	}
	return WriteFileAtomic(filepath.Join(d, lastServerFile), []byte(u+"\n"), 0o600)
}

// WriteFileAtomic writes data to a temp file next to path and renames it
// over path, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
