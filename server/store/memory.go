package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"
)

// memStore keeps everything in maps; it is gone when the process ends.
type memStore struct {
	seal  *sealer
	bc    *broadcaster
	clock func() time.Time

	mu      sync.RWMutex
	rows    map[Kind]map[string]row
	version uint64
	log     []loggedChange
	trimmed uint64 // versions up to this one are no longer in log
	closed  bool
}

type loggedChange struct {
	Change
	at time.Time
}

// OpenMemory returns an empty in-memory store encrypting secrets with key
// (nil: a random key, as nothing outlives the process anyway).
func OpenMemory(key []byte) (Store, error) {
	if key == nil {
		key = make([]byte, KeySize)
		_, _ = rand.Read(key)
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	return &memStore{seal: s, bc: newBroadcaster(), clock: time.Now, rows: map[Kind]map[string]row{}}, nil
}

func (m *memStore) Describe() string { return "memory (nothing is kept after exit)" }
func (m *memStore) sealer() *sealer  { return m.seal }
func (m *memStore) Ping(context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.bc.close()
	return nil
}

func (m *memStore) Watch(ctx context.Context) <-chan struct{} { return m.bc.watch(ctx) }

func (m *memStore) Version(context.Context) (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, ErrClosed
	}
	return m.version, nil
}

func (m *memStore) ChangesSince(_ context.Context, since uint64) ([]Change, uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, 0, ErrClosed
	}
	if since < m.trimmed {
		return nil, m.version, ErrChangesTrimmed
	}
	i, _ := slices.BinarySearchFunc(m.log, since+1, func(c loggedChange, v uint64) int { return cmp.Compare(c.Version, v) })
	out := make([]Change, 0, len(m.log)-i)
	for _, c := range m.log[i:] {
		out = append(out, c.Change)
	}
	return out, m.version, nil
}

func (m *memStore) get(_ context.Context, k Kind, id string) (row, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return row{}, ErrClosed
	}
	return m.getLocked(k, id)
}

func (m *memStore) getLocked(k Kind, id string) (row, error) {
	r, ok := m.rows[k][id]
	if !ok {
		return row{}, ErrNotFound
	}
	return r, nil
}

func (m *memStore) list(_ context.Context, k Kind, q Query) ([]row, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	return m.listLocked(k, q), nil
}

func (m *memStore) listLocked(k Kind, q Query) []row {
	var out []row
	for _, r := range m.rows[k] {
		if (q.NamespaceID == "" || r.namespace == q.NamespaceID) && (q.UserID == "" || r.user == q.UserID) &&
			(q.EntityID == "" || r.entity == q.EntityID) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.id, b.id))
	})
	if q.NewestFirst {
		slices.Reverse(out)
	}
	return page(out, q)
}

// page applies Offset and Limit.
func page[E any](s []E, q Query) []E {
	if q.Offset > 0 {
		s = s[min(q.Offset, len(s)):]
	}
	if q.Limit > 0 && len(s) > q.Limit {
		s = s[:q.Limit]
	}
	return s
}

func (m *memStore) put(ctx context.Context, r row, mode putMode) (out row, err error) {
	return putInTx(ctx, m, r, mode)
}

func (m *memStore) del(ctx context.Context, k Kind, id string) error {
	return delInTx(ctx, m, k, id)
}

// memTx writes straight into the maps under the store's write lock and
// keeps an undo list to roll back when the Update function fails.
type memTx struct {
	m       *memStore
	version uint64 // 0 until the first write
	now     int64
	undo    []func()
	done    bool
}

func (m *memStore) Update(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	tx := &memTx{m: m, now: m.clock().UnixNano()}
	err := fn(tx)
	tx.done = true
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		for i := len(tx.undo) - 1; i >= 0; i-- {
			tx.undo[i]()
		}
		m.mu.Unlock()
		return err
	}
	wrote := tx.version != 0
	if wrote {
		m.version = tx.version
	}
	m.mu.Unlock()
	if wrote {
		m.bc.notify()
	}
	return nil
}

func (t *memTx) sealer() *sealer { return t.m.seal }

func (t *memTx) get(_ context.Context, k Kind, id string) (row, error) {
	if t.done {
		return row{}, errTxDone
	}
	return t.m.getLocked(k, id)
}

func (t *memTx) list(_ context.Context, k Kind, q Query) ([]row, error) {
	if t.done {
		return nil, errTxDone
	}
	return t.m.listLocked(k, q), nil
}

func (t *memTx) bump(k Kind, id string, deleted bool) uint64 {
	if t.version == 0 {
		t.version = t.m.version + 1
	}
	m := t.m
	m.log = append(m.log, loggedChange{Change{Version: t.version, Kind: k, ID: id, Deleted: deleted}, time.Unix(0, t.now)})
	n := len(m.log)
	t.undo = append(t.undo, func() { m.log = m.log[:n-1] })
	return t.version
}

func (t *memTx) put(_ context.Context, r row, mode putMode) (row, error) {
	if t.done {
		return row{}, errTxDone
	}
	m := t.m
	old, exists := m.rows[r.kind][r.id]
	if err := checkPut(exists, old.version, r, mode); err != nil {
		return row{}, err
	}
	r.created, r.updated = t.now, t.now
	if exists {
		r.created = old.created
	}
	r.version = t.bump(r.kind, r.id, false)
	r.expect = 0
	if m.rows[r.kind] == nil {
		m.rows[r.kind] = map[string]row{}
	}
	m.rows[r.kind][r.id] = r
	t.undo = append(t.undo, func() {
		if exists {
			m.rows[r.kind][r.id] = old
		} else {
			delete(m.rows[r.kind], r.id)
		}
	})
	return r, nil
}

func (t *memTx) del(_ context.Context, k Kind, id string) error {
	if t.done {
		return errTxDone
	}
	m := t.m
	old, ok := m.rows[k][id]
	if !ok {
		return ErrNotFound
	}
	delete(m.rows[k], id)
	t.bump(k, id, true)
	t.undo = append(t.undo, func() { m.rows[k][id] = old })
	return nil
}

func (m *memStore) Cleanup(ctx context.Context, now, activityBefore time.Time) (int, error) {
	n := 0
	err := m.Update(ctx, func(tx Tx) error {
		n = 0
		for _, k := range expiringKinds {
			for id, r := range m.rows[k] {
				if r.expires != 0 && r.expires < now.UnixNano() {
					if err := tx.del(ctx, k, id); err != nil {
						return err
					}
					n++
				}
			}
		}
		for id, r := range m.rows[KindActivity] {
			if r.created < activityBefore.UnixNano() {
				if err := tx.del(ctx, KindActivity, id); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cut := now.Add(-changeLogRetention)
	i := 0
	for i < len(m.log) && m.log[i].at.Before(cut) {
		i++
	}
	if i > 0 {
		m.trimmed = m.log[i-1].Version
		m.log = slices.Clone(m.log[i:])
	}
	return n, nil
}
