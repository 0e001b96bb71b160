package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxRecordSize bounds one record's stored body.
const MaxRecordSize = 1 << 20

// MaxIDLength bounds record IDs.
const MaxIDLength = 256

// record is implemented by the pointer types of the records.
type record interface {
	Metadata() *Meta
	kind() Kind
	index() row         // namespace, user, entity, expires
	secrets() []*string // fields encrypted at rest
}

// Table reads and writes one record type; use the package variables
// (Sessions, Routes, ...).
type Table[T any, P interface {
	*T
	record
}] struct{}

// The tables, one per record type.
var (
	Sessions        Table[Session, *Session]
	Revocations     Table[Revocation, *Revocation]
	APIUsers        Table[APIUser, *APIUser]
	ServiceAccounts Table[ServiceAccount, *ServiceAccount]
	Routes          Table[Route, *Route]
	Policies        Table[Policy, *Policy]
	Namespaces      Table[Namespace, *Namespace]
	KeyPairs        Table[KeyPair, *KeyPair]
	SettingsTable   Table[Settings, *Settings]
	Activities      Table[Activity, *Activity]
	DeviceCodes     Table[DeviceCode, *DeviceCode]
	Replicas        Table[Replica, *Replica]
)

// Kind is the table's record kind.
func (Table[T, P]) Kind() Kind { return P(new(T)).kind() }

// Get reads one record; ErrNotFound when there is none.
func (t Table[T, P]) Get(ctx context.Context, r Reader, id string) (*T, error) {
	rw, err := r.get(ctx, t.Kind(), id)
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", t.Kind(), id, err)
	}
	return t.decode(r.sealer(), rw)
}

// List reads the records matching q.
func (t Table[T, P]) List(ctx context.Context, r Reader, q Query) ([]*T, error) {
	rows, err := r.list(ctx, t.Kind(), q)
	if err != nil {
		return nil, fmt.Errorf("listing %ss: %w", t.Kind(), err)
	}
	out := make([]*T, 0, len(rows))
	for _, rw := range rows {
		v, err := t.decode(r.sealer(), rw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Put creates or replaces rec, filling in its Meta. With rec.Version set it
// fails with ErrConflict unless the stored record has that version.
func (t Table[T, P]) Put(ctx context.Context, w Writer, rec *T) error {
	return t.write(ctx, w, rec, putUpsert)
}

// Create writes rec only if no record has its ID (ErrAlreadyExists).
func (t Table[T, P]) Create(ctx context.Context, w Writer, rec *T) error {
	return t.write(ctx, w, rec, putCreate)
}

// Delete removes a record; ErrNotFound when there is none.
func (t Table[T, P]) Delete(ctx context.Context, w Writer, id string) error {
	if err := w.del(ctx, t.Kind(), id); err != nil {
		return fmt.Errorf("deleting %s %q: %w", t.Kind(), id, err)
	}
	return nil
}

func (t Table[T, P]) write(ctx context.Context, w Writer, rec *T, mode putMode) error {
	p := P(rec)
	m := p.Metadata()
	if m.ID == "" {
		m.ID = NewID()
	}
	if err := checkID(m.ID); err != nil {
		return fmt.Errorf("writing %s: %w", t.Kind(), err)
	}
	rw := p.index()
	for _, f := range []string{rw.namespace, rw.user, rw.entity} {
		if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
			return fmt.Errorf("writing %s %q: a namespace, user or entity ID is not valid UTF-8 text", t.Kind(), m.ID)
		}
	}
	rw.kind, rw.id, rw.expect = t.Kind(), m.ID, m.Version
	// Encode a copy with the secrets sealed, so rec keeps its plain text.
	c := *rec
	for _, s := range P(&c).secrets() {
		sealed, err := w.sealer().seal(rw.kind, rw.id, *s)
		if err != nil {
			return fmt.Errorf("writing %s %q: %w", t.Kind(), m.ID, err)
		}
		*s = sealed
	}
	data, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("encoding %s %q: %w", t.Kind(), m.ID, err)
	}
	if len(data) > MaxRecordSize {
		return fmt.Errorf("writing %s %q: record is %d bytes; at most %d are allowed", t.Kind(), m.ID, len(data), MaxRecordSize)
	}
	rw.data = data
	out, err := w.put(ctx, rw, mode)
	if err != nil {
		return fmt.Errorf("writing %s %q: %w", t.Kind(), m.ID, err)
	}
	m.CreatedAt, m.UpdatedAt, m.Version = fromNano(out.created), fromNano(out.updated), out.version
	return nil
}

func (t Table[T, P]) decode(s *sealer, rw row) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(rw.data, v); err != nil {
		return nil, fmt.Errorf("decoding %s %q: %w", rw.kind, rw.id, err)
	}
	p := P(v)
	for _, f := range p.secrets() {
		plain, err := s.open(rw.kind, rw.id, *f)
		if err != nil {
			return nil, fmt.Errorf("decoding %s %q: %w", rw.kind, rw.id, err)
		}
		*f = plain
	}
	m := p.Metadata()
	m.ID, m.CreatedAt, m.UpdatedAt, m.Version = rw.id, fromNano(rw.created), fromNano(rw.updated), rw.version
	return v, nil
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random record ID (26 lower-case letters and digits).
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return idEncoding.EncodeToString(b)
}

// checkID refuses IDs no backend can hold the same way: empty, too long,
// invalid UTF-8 or with control characters (PostgreSQL text has no NUL).
func checkID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("id must be 1 to %d bytes long, not %d", MaxIDLength, len(id))
	}
	if !utf8.ValidString(id) || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return fmt.Errorf("id %q must be UTF-8 text without control characters", id)
	}
	return nil
}
