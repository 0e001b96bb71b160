package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

const (
	pgIdleConns = 5
	pgChannel   = "porthole_changes"
	// pgMigrationLock is the advisory lock key replicas take to migrate
	// one at a time ("porthole" in ASCII).
	pgMigrationLock = 0x706f7274686f6c65
)

// openPostgres connects, migrates under an advisory lock, and starts the
// LISTEN loop and the version poll.
func openPostgres(ctx context.Context, connString string, seal *sealer, poll time.Duration, log *slog.Logger) (Store, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("databroker_storage_connection_string: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	where := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(pgIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &sqlStore{db: db, seal: seal, bc: newBroadcaster(), clock: time.Now, desc: where, idleConns: pgIdleConns,
		d: dialect{
			rebind:      rebindDollar,
			lockWriters: "SELECT value FROM porthole_state WHERE name = 'version' FOR UPDATE",
			notify:      "SELECT pg_notify('" + pgChannel + "', ?)",
			unavailable: pgUnavailable,
		}}
	if err := pgMigrate(ctx, db, where); err != nil {
		db.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	if err := s.startPoll(bg, poll); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s.wg.Add(1)
	go s.listen(bg, cfg, log)
	return s, nil
}

func pgMigrate(ctx context.Context, db *sql.DB, where string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", where, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(pgMigrationLock)); err != nil {
		return fmt.Errorf("locking %s for schema migrations: %w", where, err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(pgMigrationLock))
	if err := migrate(ctx, conn, len(migrations), rebindDollar, where); err != nil {
		if errors.Is(err, ErrSchemaTooNew) {
			return err
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// listen keeps a LISTEN connection open, reconnecting with backoff. After
// every (re)connect it wakes watchers: changes may have been missed while
// it was away.
func (s *sqlStore) listen(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	lost := false
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg, func() {
			backoff = 100 * time.Millisecond
			if lost {
				log.Info("store: PostgreSQL notifications back")
				lost = false
			}
		})
		if ctx.Err() != nil {
			return
		}
		if !lost {
			log.Warn("store: PostgreSQL notifications lost; reconnecting with backoff", "error", err)
			lost = true
		} else {
			log.Debug("store: PostgreSQL still unreachable", "retry_in", backoff, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (s *sqlStore) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return err
	}
	connected()
	s.bc.notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.bc.notify()
	}
}

// rebindDollar numbers ? placeholders as $1, $2, ... (the statements here
// have no ? inside string literals).
func rebindDollar(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// pgUnavailable reports connection-level failures: the server is down,
// restarting, or the connection broke.
func pgUnavailable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), pgconn.Timeout(err):
		return true
	case errors.As(err, &pe):
		// 08: connection exception; 57P01-03: shutdown, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "connection refused")
}
