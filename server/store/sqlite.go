package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", pure Go
)

// FileName is the embedded store's file inside the data directory.
const FileName = "store.db"

var sqliteHeader = []byte("SQLite format 3\x00")

// openFile opens (creating if needed) the embedded store in dir. A file
// that is not a readable pomerium-server store stops start-up with its
// path; it is never modified.
func openFile(ctx context.Context, dir string, seal *sealer, poll time.Duration) (Store, error) {
	if dir == "" {
		return nil, errors.New("no data directory for the embedded store: set data_dir (or --data-dir)")
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("data_dir %q: the path must not contain ? or #", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w (set data_dir or --data-dir to a directory the server may write)", err)
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	bad := func(err error) error {
		return fmt.Errorf("embedded store %s cannot be read (%w): it is damaged or not a pomerium-server store; restore it from a backup, or move it away to start with an empty store", path, err)
	}
	// Checks first, on a query-only connection: nothing may change a file
	// that is not ours (even switching to WAL rewrites the header).
	if err := probeFile(ctx, path); err != nil {
		return nil, bad(err)
	}
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, bad(err)
	}
	// One connection: SQLite has one writer anyway, and it makes every
	// transaction strictly serial without busy retries.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, bad(err)
	}
	if err := migrate(ctx, conn, len(migrations), func(q string) string { return q }, path); err != nil {
		conn.Close()
		db.Close()
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, err
		}
		return nil, fmt.Errorf("embedded store %s: %w", path, err)
	}
	conn.Close()
	bg, stop := context.WithCancel(context.Background())
	s := &sqlStore{db: db, seal: seal, bc: newBroadcaster(), clock: time.Now, stop: stop,
		desc: "file " + path,
		d:    dialect{rebind: func(q string) string { return q }, unavailable: func(error) bool { return false }},
	}
	// Writes of this process wake watchers at once; the poll catches those
	// of another (`pomerium-server api-user create` beside a running server).
	if err := s.startPoll(bg, poll); err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded store %s: %w", path, err)
	}
	return s, nil
}

// checkFile refuses a store path that is not a regular, readable SQLite
// file before SQLite gets to touch it; it creates a new one mode 0600.
func checkFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("embedded store %s cannot be opened (%w): check its permissions and owner", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("embedded store %s is not a regular file: move it away", path)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // new (or empty) file: SQLite initializes it
	}
	if !bytes.Equal(head[:n], sqliteHeader) {
		return fmt.Errorf("embedded store %s is not a SQLite database (it starts with something else); it is left as it is: restore it from a backup, or move it away to start with an empty store", path)
	}
	return nil
}

// probeFile opens path query-only and checks it is an intact SQLite
// database that is empty or ours.
func probeFile(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return err
	}
	if check != "ok" {
		return fmt.Errorf("integrity check: %.200s", check)
	}
	return checkOurs(ctx, conn)
}

// checkOurs refuses a SQLite database that holds tables but no
// pomerium-server schema: someone else's file.
func checkOurs(ctx context.Context, conn *sql.Conn) error {
	var ours, all int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(name = 'porthole_schema'), 0) FROM sqlite_master WHERE type = 'table'").Scan(&all, &ours)
	if err != nil {
		return err
	}
	if all > 0 && ours == 0 {
		return errors.New("it holds tables of another program")
	}
	return nil
}
