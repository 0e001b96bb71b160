package servercmd

import (
	"errors"
	"os"
	"path/filepath"
)

// defaultDataDir is where the embedded store lives without data_dir or
// --data-dir: the user's state directory ($XDG_STATE_HOME, else
// ~/.local/state), as a service's home is its own.
func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "pomerium-server"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("no home directory for the store's default place: set data_dir or pass --data-dir")
	}
	return filepath.Join(home, ".local", "state", "pomerium-server"), nil
}
