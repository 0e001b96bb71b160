package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Storage types, as in Pomerium's databroker_storage_type (plus file).
const (
	TypeMemory   = "memory"
	TypeFile     = "file"
	TypePostgres = "postgres"
)

// Options choose and configure a backend.
type Options struct {
	Type       string // TypeMemory, TypeFile (default) or TypePostgres
	DataDir    string // TypeFile: the directory holding FileName
	ConnString string // TypePostgres: postgresql://user:pass@host:port/db
	// Key encrypts secrets at rest (DeriveKey of shared_secret); required
	// for file and postgres, random for memory when nil.
	Key []byte
	// PollInterval is how often the stored version is checked for writes
	// no notification told of (PostgreSQL: besides LISTEN/NOTIFY; file:
	// another process's) (default 1s).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Open opens the store Options describe, migrating its schema.
func Open(ctx context.Context, o Options) (Store, error) {
	if o.Type == TypeMemory {
		return OpenMemory(o.Key)
	}
	if o.Key == nil {
		return nil, fmt.Errorf("the %s store needs shared_secret to encrypt secrets at rest", o.Type)
	}
	seal, err := newSealer(o.Key)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	poll := o.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	switch o.Type {
	case "", TypeFile:
		return openFile(ctx, o.DataDir, seal, poll)
	case TypePostgres:
		if o.ConnString == "" {
			return nil, fmt.Errorf("databroker_storage_type postgres needs databroker_storage_connection_string (postgresql://user:password@host:5432/db)")
		}
		return openPostgres(ctx, o.ConnString, seal, poll, log)
	}
	return nil, fmt.Errorf("databroker_storage_type %q: want memory, file or postgres", o.Type)
}
