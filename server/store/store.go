// Package store keeps pomerium-server's state: sessions, revocations, API
// users, service accounts, routes, policies, namespaces, key pairs,
// settings and the activity log, behind one typed interface with three
// backends: memory (tests, throwaway runs), an embedded SQLite file (the
// default) and PostgreSQL (several replicas). Every committed write bumps
// one global version and is recorded in a change feed, so caches and other
// replicas learn what changed.
//
//	st, err := store.Open(ctx, store.Options{Type: store.TypeFile, DataDir: dir, Key: key})
//	s := &store.Session{UserID: "u1", ExpiresAt: time.Now().Add(time.Hour)}
//	err = store.Sessions.Put(ctx, st, s) // s.ID, s.Version filled in
//	err = st.Update(ctx, func(tx store.Tx) error { // all or nothing
//		if err := store.Sessions.Delete(ctx, tx, s.ID); err != nil {
//			return err
//		}
//		return store.Revocations.Put(ctx, tx, &store.Revocation{Meta: store.Meta{ID: s.ID}, ExpiresAt: s.ExpiresAt})
//	})
//	for range st.Watch(ctx) { changes, v, err := st.ChangesSince(ctx, last) ... }
package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers tell apart with errors.Is.
var (
	ErrNotFound      = errors.New("record not found")
	ErrAlreadyExists = errors.New("record already exists")
	// ErrConflict: a Put carried a Version that is no longer the stored one
	// (someone else changed the record since it was read).
	ErrConflict = errors.New("record changed since it was read")
	// ErrChangesTrimmed: ChangesSince was asked for versions the change
	// log no longer holds; reload everything instead.
	ErrChangesTrimmed = errors.New("change log no longer holds that version")
	// ErrUnavailable: the database cannot be reached; the write was not
	// made. Wrapped together with the driver's error.
	ErrUnavailable = errors.New("store unavailable")
	// ErrSchemaTooNew: the database was migrated by a newer binary.
	ErrSchemaTooNew = errors.New("store schema is newer than this binary")
	ErrClosed       = errors.New("store closed")
)

// Kind names a record type; it is the `kind` column of the records table.
type Kind string

// The record kinds.
const (
	KindSession        Kind = "session"
	KindRevocation     Kind = "revocation"
	KindAPIUser        Kind = "api_user"
	KindServiceAccount Kind = "service_account"
	KindRoute          Kind = "route"
	KindPolicy         Kind = "policy"
	KindNamespace      Kind = "namespace"
	KindKeyPair        Kind = "key_pair"
	KindSettings       Kind = "settings"
	KindActivity       Kind = "activity"
	KindDeviceCode     Kind = "device_code"
	KindReplica        Kind = "replica"
)

// Query narrows a List. Zero fields do not filter. Results are ordered by
// creation time (then ID), oldest first unless NewestFirst.
type Query struct {
	NamespaceID string // records' namespace (a Namespace's parent)
	UserID      string // sessions, revocations, service accounts, activity; API users: the email
	EntityID    string // activity: the entity; device codes: the user code; sessions: the service account
	NewestFirst bool
	Offset      int
	Limit       int // 0: no limit
}

// Change is one entry of the change feed: a record written or deleted at
// Version.
type Change struct {
	Version uint64
	Kind    Kind
	ID      string
	Deleted bool
}

// Reader reads records; Store and Tx are Readers. Use the typed tables
// (Sessions.Get, Routes.List, ...) rather than its methods.
type Reader interface {
	get(ctx context.Context, k Kind, id string) (row, error)
	list(ctx context.Context, k Kind, q Query) ([]row, error)
	sealer() *sealer
}

// Writer writes records; Store (one write per transaction) and Tx are
// Writers.
type Writer interface {
	Reader
	put(ctx context.Context, r row, mode putMode) (row, error)
	del(ctx context.Context, k Kind, id string) error
}

// Tx is a transaction: every write made through it is committed together
// when the Update function returns nil, or not at all. A Tx must not be
// used after its function returns, nor from another goroutine.
type Tx interface {
	Writer
}

// Store is the server's state. Safe for concurrent use.
type Store interface {
	Writer
	// Update runs fn in one read-write transaction. Transactions are
	// serialized; do not call the Store itself from inside fn.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Version is the version of the last committed write (0: none yet).
	Version(ctx context.Context) (uint64, error)
	// ChangesSince lists the changes after version since, oldest first,
	// and the current version. ErrChangesTrimmed means since is older
	// than the log: reload whatever was cached.
	ChangesSince(ctx context.Context, since uint64) ([]Change, uint64, error)
	// Watch returns a channel that receives a value (coalesced) whenever
	// the version may have moved, from this process or, for PostgreSQL,
	// another replica. It is closed when ctx ends or the Store closes.
	Watch(ctx context.Context) <-chan struct{}
	// Cleanup deletes sessions, revocations and device codes expired before now and
	// activity entries created before activityBefore, and trims the change
	// log. It returns how many records it deleted.
	Cleanup(ctx context.Context, now, activityBefore time.Time) (int, error)
	// Ping checks the database can be reached.
	Ping(ctx context.Context) error
	// Describe names the backend and where its data is, for logs.
	Describe() string
	Close() error
}

// putMode says what Put requires of the stored record.
type putMode int

const (
	putUpsert putMode = iota
	putCreate         // fail with ErrAlreadyExists if present
)

// row is a record as the backends store it: indexed columns plus the
// sealed JSON body.
type row struct {
	kind      Kind
	id        string
	namespace string
	user      string
	entity    string
	expires   int64 // unix nanoseconds; 0: never
	created   int64 // unix nanoseconds
	updated   int64
	version   uint64
	expect    uint64 // put only: required stored version (0: any)
	data      []byte
}

// expiringKinds are the kinds Cleanup deletes once expires has passed.
// Service accounts also carry an expiry but are kept (and refused when
// used) so an administrator sees why a token stopped working.
var expiringKinds = []Kind{KindSession, KindRevocation, KindDeviceCode, KindReplica}

// changeLogRetention is how long Cleanup keeps change log entries; a cache
// further behind than this reloads everything.
const changeLogRetention = time.Hour
