// Package connections is the store of saved connections shared by
// pomerium-desktop and `pomerium-cli connections`: a JSON file in the
// user's config dir, mode 0600, written atomically (temp file + rename).
//
//	s := connections.NewStore(connections.DefaultPath())
//	list, err := s.List()
package connections

import (
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

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
	ListenAddr  string            `json:"listen_addr,omitempty"` // "" picks a free port
	PomeriumURL string            `json:"pomerium_url,omitempty"`
	TLS         tlsconfig.Options `json:"tls,omitempty"`
	Tags        []string          `json:"tags,omitempty"` // sorted
	Autostart   bool              `json:"autostart,omitempty"`
	Source      *Source           `json:"source,omitempty"`
}

// Store reads and writes the connections file.
type Store struct{ Path string }

// NewStore returns a Store for path.
func NewStore(path string) *Store { return &Store{Path: path} }

// DefaultPath is <user config dir>/pomerium-cli/connections.json.
func DefaultPath() string { panic("not implemented") }

// List returns every connection, sorted by name (then id).
func (s *Store) List() ([]Connection, error) { panic("not implemented") }

// Get returns one connection by id.
func (s *Store) Get(id string) (Connection, error) { panic("not implemented") }

// Put validates c, assigns an id when empty, sorts its tags, and saves it
// (add or replace). It returns the saved connection.
func (s *Store) Put(c Connection) (Connection, error) { panic("not implemented") }

// Delete removes a connection by id.
func (s *Store) Delete(id string) error { panic("not implemented") }
