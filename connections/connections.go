// Package connections is the store of saved connections shared by
// pomerium-desktop and `pomerium-cli connections`: a JSON file in the
// user's config dir, mode 0600, written atomically (temp file + rename).
// It also reads and writes export files (its own format and the one
// Pomerium Desktop exports) and reconciles imports from a routes portal.
//
//	s := connections.NewStore(connections.DefaultPath())
//	c, err := s.Put(connections.Connection{Name: "db", Destination: "tcp+https://proxy:8443/db:5432"})
//	var fe *connections.FieldError // errors.As(err, &fe): fe.Field names the bad form field
//	list, err := s.List()
//
// A file that cannot be parsed is reported as a *CorruptError and is never
// overwritten: every write first reads the file successfully.
package connections

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/tlsconfig"

	"github.com/porthole-dev/porthole/internal/atomicfile"
)

// EnvPath overrides DefaultPath (tests, several profiles).
const EnvPath = "POMERIUM_CLI_CONNECTIONS"

// FileVersion is the version of the store and export format.
const FileVersion = 1

// Source records where an imported connection came from.
type Source struct {
	PortalURL string `json:"portal_url"`
	RouteID   string `json:"route_id"`
}

// Connection is one saved connection.
type Connection struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Destination string            `json:"destination"`           // any form tunnel.ParseDestination takes
	Protocol    string            `json:"protocol,omitempty"`    // "" (tcp) or "udp"
	ListenAddr  string            `json:"listen_addr,omitempty"` // "" picks a free port
	PomeriumURL string            `json:"pomerium_url,omitempty"`
	TLS         tlsconfig.Options `json:"tls,omitzero"`
	Tags        []string          `json:"tags,omitempty"` // sorted
	Autostart   bool              `json:"autostart,omitempty"`
	Source      *Source           `json:"source,omitempty"`
	// Desktop holds what a Pomerium Desktop import had that this program
	// cannot honour (clientCertFromStore, record.source, fields of newer
	// versions): kept as it was and written back on a Desktop export.
	Desktop *DesktopExtra `json:"desktop_extra,omitempty"`
}

// ErrNotFound is returned (wrapped) when no connection has the id or name.
var ErrNotFound = errors.New("no such connection")

// CorruptError says the store file exists but cannot be used. The file is
// left as it is.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("connections file %s is corrupt (%v): fix or move it away", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Store reads and writes the connections file. Writes in one process are
// serialized by the Store's mutex and, across processes (the desktop app
// and the CLI at once), by a lock file next to the store where the OS has
// flock. Use one *Store per path.
type Store struct {
	Path string

	mu sync.Mutex
}

// NewStore returns a Store for path.
func NewStore(path string) *Store { return &Store{Path: path} }

// DefaultPath is $POMERIUM_CLI_CONNECTIONS when set, else
// <user config dir>/pomerium-cli/connections.json; "" when there is no
// user config dir (then every Store call fails saying so).
func DefaultPath() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "pomerium-cli", "connections.json")
}

// fileData is the on-disk form of the store and of our export format.
type fileData struct {
	Version     int          `json:"version"`
	Connections []Connection `json:"connections"`
}

// List returns every connection, sorted by name (then id).
func (s *Store) List() ([]Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.load()
	if err != nil {
		return nil, err
	}
	return list, nil
}

// Get returns one connection by id.
func (s *Store) Get(id string) (Connection, error) {
	list, err := s.List()
	if err != nil {
		return Connection{}, err
	}
	for _, c := range list {
		if c.ID == id {
			return c, nil
		}
	}
	return Connection{}, fmt.Errorf("connection id %q: %w", id, ErrNotFound)
}

// Put validates c, assigns an id when empty, sorts its tags, and saves it
// (add or replace). It returns the saved connection. Validation errors are
// *FieldError.
func (s *Store) Put(c Connection) (Connection, error) {
	c, err := Normalize(c)
	if err != nil {
		return Connection{}, err
	}
	err = s.modify(func(list []Connection) ([]Connection, error) {
		if c.ID == "" {
			if c.ID, err = NewID(); err != nil {
				return nil, err
			}
		}
		return upsert(list, c), nil
	})
	if err != nil {
		return Connection{}, err
	}
	return c, nil
}

// Delete removes a connection by id.
func (s *Store) Delete(id string) error {
	return s.modify(func(list []Connection) ([]Connection, error) {
		i := slices.IndexFunc(list, func(c Connection) bool { return c.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("connection id %q: %w", id, ErrNotFound)
		}
		return slices.Delete(list, i, i+1), nil
	})
}

// Modify runs fn on the current list under the store's locks and saves
// what it returns (validated, sorted) in one atomic write, so a batch of
// changes (an import) lands whole or not at all. Connections fn returns
// without an id get one. An error from fn leaves the file as it was.
func (s *Store) Modify(fn func(list []Connection) ([]Connection, error)) error {
	return s.modify(func(list []Connection) ([]Connection, error) {
		loaded := make(map[string]Connection, len(list))
		for _, c := range list {
			loaded[c.ID] = c
		}
		out, err := fn(slices.Clone(list))
		if err != nil {
			return nil, err
		}
		for i := range out {
			if old, ok := loaded[out[i].ID]; ok && reflect.DeepEqual(old, out[i]) {
				continue // unchanged: a bad hand edit elsewhere must not block this write
			}
			c, err := Normalize(out[i])
			if err != nil {
				return nil, fmt.Errorf("connection %q: %w", out[i].Name, err)
			}
			if c.ID == "" {
				if c.ID, err = NewID(); err != nil {
					return nil, err
				}
			}
			out[i] = c
		}
		return out, nil
	})
}

// modify is the read-modify-write core.
func (s *Store) modify(fn func(list []Connection) ([]Connection, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Path == "" {
		return errNoPath
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return fmt.Errorf("creating the connections directory: %w", err)
	}
	unlock, err := lockFile(s.Path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	list, err := s.load()
	if err != nil {
		return err
	}
	before := slices.Clone(list)
	list, err = fn(list)
	if err != nil {
		return err
	}
	if err := checkUniqueIDs(list); err != nil {
		return err
	}
	if err := checkNewNames(before, list); err != nil {
		return err
	}
	sortConnections(list)
	return s.save(list)
}

// MaxFileBytes caps the connections file and the files imported into it.
const MaxFileBytes = 16 << 20

var errNoPath = errors.New("no connections file: the user config dir is unknown (set $HOME or " + EnvPath + ")")

// load reads the file; a missing file is an empty store.
func (s *Store) load() ([]Connection, error) {
	if s.Path == "" {
		return nil, errNoPath
	}
	b, err := bounded.ReadFile(s.Path, MaxFileBytes)
	if errors.Is(err, os.ErrNotExist) {
		return []Connection{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading connections file: %w", err)
	}
	list, err := decodeStore(b)
	if err != nil {
		return nil, &CorruptError{Path: s.Path, Err: err}
	}
	sortConnections(list)
	return list, nil
}

func (s *Store) save(list []Connection) error {
	b, err := encodeStore(list)
	if err != nil {
		return err
	}
	return atomicfile.Write(resolveLinks(s.Path), b, 0o600)
}

// resolveLinks follows symlinks (even to a file not yet created), so a
// symlinked store (dotfiles) stays a symlink and its target is replaced.
func resolveLinks(path string) string {
	for range 16 {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			return path
		}
		target, err := os.Readlink(path)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return path
}

// NewID returns a random 8-byte hex id.
func NewID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a connection id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func upsert(list []Connection, c Connection) []Connection {
	for i := range list {
		if list[i].ID == c.ID {
			list[i] = c
			return list
		}
	}
	return append(list, c)
}

func checkUniqueIDs(list []Connection) error {
	seen := make(map[string]bool, len(list))
	for _, c := range list {
		if seen[c.ID] {
			return fmt.Errorf("two connections would share the id %q", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

// sortConnections orders by name (case-insensitive, then exact), then id.
func sortConnections(list []Connection) { slices.SortStableFunc(list, compareConnections) }

func compareConnections(a, b Connection) int {
	if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
