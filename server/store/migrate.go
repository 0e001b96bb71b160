package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are the schema, in order; the schema version is how many
// have been applied. Never edit one that shipped: append.
var migrations = []string{
	// 1: records, the change log and the counters.
	`CREATE TABLE porthole_records (
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		namespace_id TEXT NOT NULL DEFAULT '',
		user_id TEXT NOT NULL DEFAULT '',
		entity_id TEXT NOT NULL DEFAULT '',
		expires_at BIGINT NOT NULL DEFAULT 0,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		version BIGINT NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (kind, id)
	);
	CREATE INDEX porthole_records_namespace ON porthole_records (kind, namespace_id);
	CREATE INDEX porthole_records_user ON porthole_records (kind, user_id);
	CREATE INDEX porthole_records_entity ON porthole_records (kind, entity_id);
	CREATE INDEX porthole_records_expires ON porthole_records (kind, expires_at);
	CREATE INDEX porthole_records_created ON porthole_records (kind, created_at);
	CREATE TABLE porthole_changes (
		version BIGINT NOT NULL,
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		deleted INTEGER NOT NULL,
		at BIGINT NOT NULL
	);
	CREATE INDEX porthole_changes_version ON porthole_changes (version);
	CREATE INDEX porthole_changes_at ON porthole_changes (at);
	CREATE TABLE porthole_state (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
	INSERT INTO porthole_state (name, value) VALUES ('version', 0), ('trimmed', 0);`,
}

// migrate brings the schema up to date inside transactions the caller has
// made exclusive (lock: PostgreSQL's advisory lock on conn; SQLite's
// immediate transactions), so replicas starting together apply each
// migration once.
func migrate(ctx context.Context, conn *sql.Conn, known int, rebind func(string) string, where string) error {
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS porthole_schema (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("preparing the schema table: %w", err)
	}
	for {
		done, err := migrateOne(ctx, conn, known, rebind, where)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, conn *sql.Conn, known int, rebind func(string) string, where string) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var v int
	err = tx.QueryRowContext(ctx, "SELECT version FROM porthole_schema").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO porthole_schema (version) VALUES (0)"); err != nil {
			return false, err
		}
		v = 0
	} else if err != nil {
		return false, fmt.Errorf("reading the schema version: %w", err)
	}
	if v > known {
		return false, fmt.Errorf("%w: %s has schema version %d, this pomerium-server knows up to %d: run a newer pomerium-server (or restore a backup made before the upgrade)", ErrSchemaTooNew, where, v, known)
	}
	if v == known {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("applying schema migration %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, rebind("UPDATE porthole_schema SET version = ?"), v+1); err != nil {
		return false, err
	}
	return false, tx.Commit()
}
