package authflow

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// Why the keyring is not used, in words for the notice.
var (
	errKeyringDisabled = errors.New("disabled")
	errNoSessionBus    = errors.New("no D-Bus session bus is running")
)

const (
	storeKeyring = "keyring"
	storeFile    = "file"
)

// sessionBusNamed reports whether the Secret Service may be asked: on
// macOS and Windows the keyring needs no bus; elsewhere only when
// DBUS_SESSION_BUS_ADDRESS names a bus (not "autolaunch:", which starts
// one that never exits).
func sessionBusNamed(getenv func(string) string) bool {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	a := strings.TrimSpace(getenv("DBUS_SESSION_BUS_ADDRESS"))
	return a != "" && !strings.HasPrefix(a, "autolaunch:")
}

// announce says once per cache, not on every run, which store keeps the
// tokens: a marker file in the cache dir remembers what was last said,
// so the notice comes again only when the store changes. --no-keyring
// (asked for) gets no notice.
func (c *Cache) announce(store string, why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.told || c.stderr == nil || errors.Is(why, errKeyringDisabled) {
		c.told = true
		return
	}
	c.told = true
	marker := filepath.Join(c.dir, "token-store")
	if c.dirErr == nil {
		if b, err := bounded.ReadFile(marker, 64); err == nil && strings.TrimSpace(string(b)) == store {
			return
		}
	}
	switch store {
	case storeKeyring:
		fmt.Fprintln(c.stderr, "Tokens are kept in the OS keyring.")
	default:
		fmt.Fprintf(c.stderr, "Tokens are kept in files only you can read, in %s (%s).\n",
			termtext.Escape(filepath.Join(c.dir, "tokens")), plainReason(why))
	}
	if c.dirErr == nil {
		_ = atomicfile.Write(marker, []byte(store+"\n"), 0o600)
	}
}

// plainReason says why the keyring is not used without D-Bus names or
// object paths.
func plainReason(err error) string {
	switch {
	case errors.Is(err, errNoSessionBus):
		return "no keyring: no D-Bus session bus is running"
	case err != nil && strings.Contains(err.Error(), "did not answer"):
		return "no keyring: it did not answer in time"
	}
	return "no keyring service answered"
}

// repairPerms makes a token file (and its directory) private: a file
// group or others may read or write is set to 0600 with a one-line notice
// saying what was wrong, or refused when it cannot be fixed.
func (c *Cache) repairPerms(path string) error {
	dir := filepath.Dir(path)
	if err := c.repairMode(dir, 0o700, "directory"); err != nil {
		return err
	}
	return c.repairMode(path, 0o600, "token file")
}

func (c *Cache) repairMode(path string, want fs.FileMode, what string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s %s: %w", what, path, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s %s is a symbolic link; remove it and sign in again", what, path)
	}
	perm := st.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	wrong := describeExtraPerms(perm)
	if err := os.Chmod(path, want); err != nil {
		return fmt.Errorf("%s %s is %s (mode %04o) and could not be made %04o: %w", what, path, wrong, perm, want, err)
	}
	if c.stderr != nil {
		fmt.Fprintf(c.stderr, "warning: %s %s was %s (mode %04o); set it to %04o\n",
			what, termtext.Escape(path), wrong, perm, want)
	}
	return nil
}

// describeExtraPerms names the group and other bits that should not be
// set: "readable by group and others, writable by others".
func describeExtraPerms(perm fs.FileMode) string {
	var parts []string
	for _, b := range []struct {
		g, o fs.FileMode
		verb string
	}{{0o040, 0o004, "readable"}, {0o020, 0o002, "writable"}, {0o010, 0o001, "executable"}} {
		switch {
		case perm&b.g != 0 && perm&b.o != 0:
			parts = append(parts, b.verb+" by group and others")
		case perm&b.g != 0:
			parts = append(parts, b.verb+" by group")
		case perm&b.o != 0:
			parts = append(parts, b.verb+" by others")
		}
	}
	return strings.Join(parts, ", ")
}
