package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/porthole-dev/porthole/internal/atomicfile"
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
// file is replaced atomically.
func (f *Factory) SaveLastServer(u string) error {
	d, err := f.configDir()
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(d, lastServerFile), []byte(u+"\n"), 0o600)
}
