package gui

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
)

// maxPrefsFile bounds what is read of Fyne's preferences file; the app
// keeps nothing there, so anything big is not ours either.
const maxPrefsFile = 1 << 20

// fynePrefsPath is where Fyne keeps the app's preferences.json (its
// storage root: the user config dir, ~/Library/Preferences on macOS).
func fynePrefsPath(home, configDir string) string {
	root := filepath.Join(configDir, "fyne")
	if runtime.GOOS == "darwin" {
		root = filepath.Join(home, "Library", "Preferences", "fyne")
	}
	return filepath.Join(root, AppID, "preferences.json")
}

// repairPreferences replaces a preferences file Fyne cannot read with an
// empty object before Fyne reads it. Fyne writes the file at every exit
// by truncating it and then writing (not atomically), so an exit cut
// short (SIGKILL, a logout, power loss) leaves it empty, and every later
// start printed "Fyne error: Preferences load error: EOF". The app keeps
// nothing there, so nothing is lost. A missing file is left missing.
func repairPreferences(path string) error {
	b, err := bounded.ReadFile(path, maxPrefsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var obj map[string]any
	if err == nil && json.NewDecoder(bytes.NewReader(b)).Decode(&obj) == nil && obj != nil {
		return nil
	}
	return atomicfile.Write(path, []byte("{}\n"), 0o600)
}

// repairUserPreferences runs repairPreferences on the user's file; a
// failure only costs Fyne's warning line, so it is not reported.
func repairUserPreferences() {
	home, _ := os.UserHomeDir()
	cfg, err := os.UserConfigDir()
	if err != nil {
		return
	}
	_ = repairPreferences(fynePrefsPath(home, cfg))
}
