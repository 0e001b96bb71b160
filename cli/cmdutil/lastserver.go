package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
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
	b, err := bounded.ReadFile(filepath.Join(d, lastServerFile), 4<<10)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the last server URL: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SaveLastServer remembers u for commands run without a server URL,
// with its profile (the TLS options in effect, see RememberServer). Both
// files are replaced atomically.
func (f *Factory) SaveLastServer(u string) error {
	pu, err := ParseServerURL(u)
	if err != nil {
		return err
	}
	if err := f.RememberServer(pu, ""); err != nil {
		return err
	}
	return f.setLastServer(pu.String())
}

func (f *Factory) setLastServer(u string) error {
	d, err := f.configDir()
	if err != nil {
		return err
	}
	if u == "" {
		if err := os.Remove(filepath.Join(d, lastServerFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("forgetting the last server: %w", err)
		}
		return nil
	}
	return atomicfile.Write(filepath.Join(d, lastServerFile), []byte(u+"\n"), 0o600)
}

// ResolveServer parses the server URL given, or else the remembered one,
// and makes it the command's Target (for hints). With no TLS flag given,
// the server's remembered profile supplies them. When there is neither a
// URL nor a remembered one it is a usage error suggesting run
// ("pomerium-cli routes list URL").
func (f *Factory) ResolveServer(given, run string) (*url.URL, error) {
	if given == "" {
		last, err := f.LastServer()
		if err != nil {
			return nil, err
		}
		if last == "" {
			return nil, Usagef("no server URL given and none remembered: run %s", run)
		}
		given = last
	}
	u, err := ParseServerURL(given)
	if err != nil {
		return nil, err
	}
	if err := f.UseServer(u); err != nil {
		return nil, err
	}
	return u, nil
}
