package pkgbuild

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/porthole-dev/porthole/internal/atomicfile"
)

// Install copies files under destDir+prefix (destDir is DESTDIR for
// staged installs, "" for a direct one). Each file is written whole
// (temp file + rename), so an interrupted install leaves no torn binary.
func Install(files []File, prefix, destDir string) error {
	if !filepath.IsAbs(prefix) {
		return fmt.Errorf("PREFIX %q must be an absolute path (e.g. /usr/local)", prefix)
	}
	root := filepath.Join(destDir, prefix)
	for _, f := range files {
		b, err := os.ReadFile(f.Src)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, filepath.FromSlash(f.Dst))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		if err := atomicfile.Write(dst, b, f.Mode); err != nil {
			return fmt.Errorf("install %s: %w", dst, err)
		}
		if err := os.Chmod(dst, f.Mode); err != nil {
			return err
		}
	}
	return nil
}
