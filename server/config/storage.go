package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Storage is where the server keeps its state (sessions, revocations,
// API-managed records): Pomerium's databroker_storage_* keys plus
// data_dir for the embedded file.
type Storage struct {
	// DataDir holds the embedded store (data_dir); "" means the default
	// (the user's state directory; --dev: the dev dir).
	DataDir string
	// Type is memory, file (the default, "") or postgres.
	Type string
	// ConnectionString is the PostgreSQL URL (postgresql://...) or
	// key=value DSN; it holds a password, so it is never echoed.
	ConnectionString string
}

// Storage types.
const (
	StorageMemory   = "memory"
	StorageFile     = "file"
	StoragePostgres = "postgres"
)

func (s *Storage) fields() map[string]fieldFn {
	return map[string]fieldFn{
		"data_dir":                             str(&s.DataDir),
		"databroker_storage_type":              str(&s.Type),
		"databroker_storage_connection_string": str(&s.ConnectionString),
	}
}

// EffectiveType is Type with the default applied.
func (s Storage) EffectiveType() string {
	if s.Type == "" {
		return StorageFile
	}
	return s.Type
}

func (s Storage) validate() error {
	switch s.Type {
	case "", StorageMemory, StorageFile, StoragePostgres:
	default:
		return fmt.Errorf("databroker_storage_type: %q is not memory, file or postgres", s.Type)
	}
	if strings.HasPrefix(s.DataDir, "~") {
		return fmt.Errorf("data_dir: %q: ~ is not expanded; write the absolute path", s.DataDir)
	}
	if strings.ContainsAny(s.DataDir, "?#\x00") {
		return errors.New("data_dir: the path must not contain ?, # or NUL")
	}
	if s.Type == StoragePostgres {
		if s.ConnectionString == "" {
			return errors.New("databroker_storage_connection_string: required with databroker_storage_type postgres (postgresql://user:password@host:5432/dbname)")
		}
		return checkPostgresURL(s.ConnectionString)
	}
	if s.ConnectionString != "" {
		return fmt.Errorf("databroker_storage_connection_string: only used with databroker_storage_type postgres (the type is %s)", s.EffectiveType())
	}
	return nil
}

// checkPostgresURL checks the shape without printing the value, which
// holds a password.
func checkPostgresURL(v string) error {
	if !strings.Contains(v, "://") {
		if strings.Contains(v, "=") {
			return nil // key=value DSN, checked when connecting
		}
		return errors.New("databroker_storage_connection_string: want postgresql://user:password@host:5432/dbname or host=... key=value pairs")
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("databroker_storage_connection_string: want a postgresql:// URL (postgresql://user:password@host:5432/dbname); check its scheme and escaping (a password with @ / : # ? % must be percent-encoded)")
	}
	return nil
}
