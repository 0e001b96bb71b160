package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sqlStore is the embedded (SQLite) and PostgreSQL backend: one schema,
// one set of statements, with a dialect for what differs.
type sqlStore struct {
	db    *sql.DB
	d     dialect
	seal  *sealer
	bc    *broadcaster
	desc  string
	clock func() time.Time

	idleConns int    // the pool's idle connections (0: a single connection)
	polled    uint64 // the version when the poll started

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// dialect is what the two SQL databases do differently.
type dialect struct {
	// rebind turns ? placeholders into the database's.
	rebind func(string) string
	// lockWriters serializes read-write transactions (PostgreSQL: a row
	// lock held to commit; SQLite: BEGIN IMMEDIATE already did).
	lockWriters string
	// notify, if set, is run with the new version in each writing
	// transaction (PostgreSQL: NOTIFY, delivered at commit).
	notify string
	// unavailable tells connection failures from other errors.
	unavailable func(error) bool
}

func (s *sqlStore) Describe() string { return s.desc }
func (s *sqlStore) sealer() *sealer  { return s.seal }

func (s *sqlStore) Watch(ctx context.Context) <-chan struct{} { return s.bc.watch(ctx) }

func (s *sqlStore) Close() error {
	s.stop()
	s.wg.Wait()
	s.bc.close()
	return s.db.Close()
}

func (s *sqlStore) Ping(ctx context.Context) error { return s.wrap(s.db.PingContext(ctx)) }

// wrap marks connection failures as ErrUnavailable.
func (s *sqlStore) wrap(err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrAlreadyExists) {
		return err
	}
	if errors.Is(err, sql.ErrConnDone) || s.d.unavailable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

const rowColumns = "namespace_id, user_id, entity_id, expires_at, created_at, updated_at, version, data"

func scanRow(sc interface{ Scan(...any) error }, r *row) error {
	var data string
	var v int64
	if err := sc.Scan(&r.namespace, &r.user, &r.entity, &r.expires, &r.created, &r.updated, &v, &data); err != nil {
		return err
	}
	r.version, r.data = uint64(v), []byte(data)
	return nil
}

func (s *sqlStore) getQ(ctx context.Context, q querier, k Kind, id string) (row, error) {
	r := row{kind: k, id: id}
	err := scanRow(q.QueryRowContext(ctx, s.d.rebind("SELECT "+rowColumns+" FROM porthole_records WHERE kind = ? AND id = ?"), string(k), id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, ErrNotFound
	}
	return r, s.wrap(err)
}

func (s *sqlStore) listQ(ctx context.Context, q querier, k Kind, qu Query) ([]row, error) {
	var b strings.Builder
	b.WriteString("SELECT id, " + rowColumns + " FROM porthole_records WHERE kind = ?")
	args := []any{string(k)}
	for _, f := range []struct{ col, v string }{{"namespace_id", qu.NamespaceID}, {"user_id", qu.UserID}, {"entity_id", qu.EntityID}} {
		if f.v != "" {
			b.WriteString(" AND " + f.col + " = ?")
			args = append(args, f.v)
		}
	}
	if qu.NewestFirst {
		b.WriteString(" ORDER BY created_at DESC, id DESC")
	} else {
		b.WriteString(" ORDER BY created_at, id")
	}
	if qu.Limit > 0 || qu.Offset > 0 {
		limit := int64(qu.Limit)
		if limit <= 0 {
			limit = 1<<63 - 1
		}
		b.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, limit, max(qu.Offset, 0))
	}
	rows, err := q.QueryContext(ctx, s.d.rebind(b.String()), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		r := row{kind: k}
		var id string
		var data string
		var v int64
		if err := rows.Scan(&id, &r.namespace, &r.user, &r.entity, &r.expires, &r.created, &r.updated, &v, &data); err != nil {
			return nil, s.wrap(err)
		}
		r.id, r.version, r.data = id, uint64(v), []byte(data)
		out = append(out, r)
	}
	return out, s.wrap(rows.Err())
}

func (s *sqlStore) get(ctx context.Context, k Kind, id string) (r row, err error) {
	err = s.retry(func() error { r, err = s.getQ(ctx, s.db, k, id); return err })
	return r, err
}

func (s *sqlStore) list(ctx context.Context, k Kind, q Query) (rs []row, err error) {
	err = s.retry(func() error { rs, err = s.listQ(ctx, s.db, k, q); return err })
	return rs, err
}

// retry runs fn again once if it failed for want of a connection, after
// dropping the idle connections: after a database restart they are all
// dead, and each would fail one request.
func (s *sqlStore) retry(fn func() error) error {
	err := fn()
	if errors.Is(err, ErrUnavailable) && s.idleConns > 0 {
		s.db.SetMaxIdleConns(0)
		s.db.SetMaxIdleConns(s.idleConns)
		err = fn()
	}
	return err
}

func (s *sqlStore) put(ctx context.Context, r row, mode putMode) (out row, err error) {
	return putInTx(ctx, s, r, mode)
}

func (s *sqlStore) del(ctx context.Context, k Kind, id string) error {
	return delInTx(ctx, s, k, id)
}

func (s *sqlStore) Version(ctx context.Context) (v uint64, err error) {
	err = s.retry(func() error { v, err = s.state(ctx, s.db, "version"); return err })
	return v, err
}

func (s *sqlStore) state(ctx context.Context, q querier, name string) (uint64, error) {
	var v int64
	err := q.QueryRowContext(ctx, s.d.rebind("SELECT value FROM porthole_state WHERE name = ?"), name).Scan(&v)
	return uint64(v), s.wrap(err)
}

func (s *sqlStore) ChangesSince(ctx context.Context, since uint64) ([]Change, uint64, error) {
	// The version first: changes up to it are committed together with it.
	cur, err := s.Version(ctx)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind("SELECT version, kind, id, deleted FROM porthole_changes WHERE version > ? AND version <= ? ORDER BY version"), int64(since), int64(cur))
	if err != nil {
		return nil, 0, s.wrap(err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var v, del int64
		var k string
		if err := rows.Scan(&v, &k, &c.ID, &del); err != nil {
			return nil, 0, s.wrap(err)
		}
		c.Version, c.Kind, c.Deleted = uint64(v), Kind(k), del != 0
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.wrap(err)
	}
	// Checked after reading: a trim that ran meanwhile shows here.
	trimmed, err := s.state(ctx, s.db, "trimmed")
	if err != nil {
		return nil, 0, err
	}
	if since < trimmed {
		return nil, cur, ErrChangesTrimmed
	}
	return out, cur, nil
}

// sqlTx is one read-write transaction.
type sqlTx struct {
	s       *sqlStore
	tx      *sql.Tx
	now     int64
	version uint64 // 0 until the first write
	done    bool
}

func (s *sqlStore) Update(ctx context.Context, fn func(tx Tx) error) error {
	return s.update(ctx, func(t *sqlTx) error { return fn(t) })
}

func (s *sqlStore) update(ctx context.Context, fn func(t *sqlTx) error) error {
	var tx *sql.Tx
	// Only the start is retried: fn has not run yet.
	err := s.retry(func() (err error) {
		if tx, err = s.db.BeginTx(ctx, nil); err != nil {
			return s.wrap(fmt.Errorf("starting a transaction: %w", err))
		}
		if s.d.lockWriters != "" {
			if _, err := tx.ExecContext(ctx, s.d.lockWriters); err != nil {
				tx.Rollback()
				return s.wrap(err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	t := &sqlTx{s: s, tx: tx, now: s.clock().UnixNano()}
	defer func() { t.done = true }()
	if err := fn(t); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(fmt.Errorf("committing: %w", err))
	}
	if t.version != 0 {
		s.bc.notify()
	}
	return nil
}

func (t *sqlTx) sealer() *sealer { return t.s.seal }

func (t *sqlTx) get(ctx context.Context, k Kind, id string) (row, error) {
	if t.done {
		return row{}, errTxDone
	}
	return t.s.getQ(ctx, t.tx, k, id)
}

func (t *sqlTx) list(ctx context.Context, k Kind, q Query) ([]row, error) {
	if t.done {
		return nil, errTxDone
	}
	return t.s.listQ(ctx, t.tx, k, q)
}

// bump takes the transaction's version on its first write and logs the
// change.
func (t *sqlTx) bump(ctx context.Context, k Kind, id string, deleted bool) (uint64, error) {
	s := t.s
	if t.version == 0 {
		var v int64
		if err := t.tx.QueryRowContext(ctx, "UPDATE porthole_state SET value = value + 1 WHERE name = 'version' RETURNING value").Scan(&v); err != nil {
			return 0, s.wrap(err)
		}
		t.version = uint64(v)
		if s.d.notify != "" {
			if _, err := t.tx.ExecContext(ctx, s.d.rebind(s.d.notify), strconv.FormatInt(v, 10)); err != nil {
				return 0, s.wrap(err)
			}
		}
	}
	del := 0
	if deleted {
		del = 1
	}
	_, err := t.tx.ExecContext(ctx, s.d.rebind("INSERT INTO porthole_changes (version, kind, id, deleted, at) VALUES (?, ?, ?, ?, ?)"),
		int64(t.version), string(k), id, del, t.now)
	return t.version, s.wrap(err)
}

func (t *sqlTx) put(ctx context.Context, r row, mode putMode) (row, error) {
	if t.done {
		return row{}, errTxDone
	}
	old, err := t.s.getQ(ctx, t.tx, r.kind, r.id)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return row{}, err
	}
	if err := checkPut(exists, old.version, r, mode); err != nil {
		return row{}, err
	}
	r.created, r.updated = t.now, t.now
	if exists {
		r.created = old.created
	}
	if r.version, err = t.bump(ctx, r.kind, r.id, false); err != nil {
		return row{}, err
	}
	_, err = t.tx.ExecContext(ctx, t.s.d.rebind(`INSERT INTO porthole_records (kind, id, `+rowColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET namespace_id = excluded.namespace_id, user_id = excluded.user_id,
			entity_id = excluded.entity_id, expires_at = excluded.expires_at, updated_at = excluded.updated_at,
			version = excluded.version, data = excluded.data`),
		string(r.kind), r.id, r.namespace, r.user, r.entity, r.expires, r.created, r.updated, int64(r.version), string(r.data))
	if err != nil {
		return row{}, t.s.wrap(err)
	}
	r.expect = 0
	return r, nil
}

func (t *sqlTx) del(ctx context.Context, k Kind, id string) error {
	if t.done {
		return errTxDone
	}
	res, err := t.tx.ExecContext(ctx, t.s.d.rebind("DELETE FROM porthole_records WHERE kind = ? AND id = ?"), string(k), id)
	if err != nil {
		return t.s.wrap(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.wrap(err)
	} else if n == 0 {
		return ErrNotFound
	}
	_, err = t.bump(ctx, k, id, true)
	return err
}

func (s *sqlStore) Cleanup(ctx context.Context, now, activityBefore time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(t *sqlTx) error {
		n = 0
		var doomed []row
		for _, k := range expiringKinds {
			rows, err := t.tx.QueryContext(ctx, s.d.rebind("SELECT id FROM porthole_records WHERE kind = ? AND expires_at > 0 AND expires_at < ?"), string(k), now.UnixNano())
			if err != nil {
				return s.wrap(err)
			}
			doomed, err = appendIDs(doomed, rows, k)
			if err != nil {
				return s.wrap(err)
			}
		}
		rows, err := t.tx.QueryContext(ctx, s.d.rebind("SELECT id FROM porthole_records WHERE kind = ? AND created_at < ?"), string(KindActivity), activityBefore.UnixNano())
		if err != nil {
			return s.wrap(err)
		}
		if doomed, err = appendIDs(doomed, rows, KindActivity); err != nil {
			return s.wrap(err)
		}
		for _, r := range doomed {
			if err := t.del(ctx, r.kind, r.id); err != nil {
				return err
			}
			n++
		}
		// Trim the change log by whole versions.
		var cut sql.NullInt64
		if err := t.tx.QueryRowContext(ctx, s.d.rebind("SELECT MAX(version) FROM porthole_changes WHERE at < ?"), now.Add(-changeLogRetention).UnixNano()).Scan(&cut); err != nil {
			return s.wrap(err)
		}
		if cut.Valid {
			if _, err := t.tx.ExecContext(ctx, s.d.rebind("DELETE FROM porthole_changes WHERE version <= ?"), cut.Int64); err != nil {
				return s.wrap(err)
			}
			if _, err := t.tx.ExecContext(ctx, s.d.rebind("UPDATE porthole_state SET value = ? WHERE name = 'trimmed' AND value < ?"), cut.Int64, cut.Int64); err != nil {
				return s.wrap(err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func appendIDs(out []row, rows *sql.Rows, k Kind) ([]row, error) {
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, row{kind: k, id: id})
	}
	return out, rows.Err()
}

// startPoll starts pollVersion from the version now, read before
// returning so that no write after Open goes unnoticed.
func (s *sqlStore) startPoll(ctx context.Context, every time.Duration) error {
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	s.polled = v
	s.wg.Add(1)
	go s.pollVersion(ctx, every)
	return nil
}

// pollVersion is the safety net under notifications: it compares the
// stored version every interval and wakes watchers when it moved.
func (s *sqlStore) pollVersion(ctx context.Context, every time.Duration) {
	defer s.wg.Done()
	last := s.polled
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		qctx, cancel := context.WithTimeout(ctx, every+time.Second)
		v, err := s.Version(qctx)
		cancel()
		if err == nil && v != last {
			last = v
			s.bc.notify()
		}
	}
}
