package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, store.KeySize) }

func openFile(t *testing.T, dir string) (store.Store, error) {
	t.Helper()
	return store.Open(context.Background(), store.Options{Type: store.TypeFile, DataDir: dir, Key: key(7)})
}

func TestFileRefusesWhatIsNotItsStore(t *testing.T) {
	sqliteWith := func(t *testing.T, path, stmt string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"garbage", func(t *testing.T, p string) {
			os.WriteFile(p, []byte("this is not a database at all, but a text file\n"), 0o600)
		},
			"is not a SQLite database"},
		{"damaged SQLite", func(t *testing.T, p string) {
			sqliteWith(t, p, "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('hello')")
			b, _ := os.ReadFile(p)
			for i := 100; i < len(b); i++ {
				b[i] = 0xA5
			}
			os.WriteFile(p, b, 0o600)
		}, "cannot be read"},
		{"another program's database", func(t *testing.T, p string) { sqliteWith(t, p, "CREATE TABLE users (name TEXT)") },
			"tables of another program"},
		{"a directory", func(t *testing.T, p string) { os.Mkdir(p, 0o700) }, "cannot be opened"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, store.FileName)
			tc.make(t, path)
			before := snapshot(t, dir)
			st, err := openFile(t, dir)
			if err == nil {
				st.Close()
				t.Fatal("Open: no error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v; want the path %s and %q", err, path, tc.want)
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("the data directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot lists dir's files with their contents' digest-ish summary.
func snapshot(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "%s:%x;", filepath.Base(p), sha256.Sum256(data))
		return nil
	})
	return b.String()
}

func TestFileSecretsAtRestAndMode(t *testing.T) {
	dir := t.TempDir()
	st, err := openFile(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secret := store.NewSecret()
	s := &store.Session{UserID: "alice", RefreshToken: "refresh-PLAINTEXT-1", AccessToken: "access-PLAINTEXT-2", IDToken: "id-PLAINTEXT-3"}
	if err := store.Sessions.Put(ctx, st, s); err != nil {
		t.Fatal(err)
	}
	if err := store.APIUsers.Put(ctx, st, &store.APIUser{Name: "bot", SecretHash: store.HashSecret(secret)}); err != nil {
		t.Fatal(err)
	}
	if err := store.KeyPairs.Put(ctx, st, &store.KeyPair{Name: "k", Key: "PRIVATE-KEY-PLAINTEXT"}); err != nil {
		t.Fatal(err)
	}
	st.Close() // checkpoints the WAL into the file
	path := filepath.Join(dir, store.FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file mode %v; want 0600", fi.Mode().Perm())
	}
	var all []byte
	matches, _ := filepath.Glob(path + "*")
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("alice")) {
		t.Fatal("the store file does not hold the session at all; the test reads the wrong file")
	}
	for _, plain := range []string{"PLAINTEXT", secret} {
		if bytes.Contains(all, []byte(plain)) {
			t.Fatalf("the store file holds %q in clear text", plain)
		}
	}
	if !store.CheckSecret(store.HashSecret(secret), secret) || store.CheckSecret(store.HashSecret(secret), secret+"x") {
		t.Fatal("CheckSecret does not match HashSecret")
	}
}

func TestFileSchemaTooNew(t *testing.T) {
	dir := t.TempDir()
	st, err := openFile(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE porthole_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = openFile(t, dir)
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "99") || !strings.Contains(err.Error(), "newer pomerium-server") {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew naming version 99 and what to do", err)
	}
}

func TestOpenOptionErrors(t *testing.T) {
	tests := []struct {
		o    store.Options
		want string
	}{
		{store.Options{Type: "mysql", Key: key(1)}, `databroker_storage_type "mysql"`},
		{store.Options{Type: store.TypePostgres, Key: key(1)}, "databroker_storage_connection_string"},
		{store.Options{Type: store.TypePostgres, Key: key(1), ConnString: "postgresql://%zz"}, "databroker_storage_connection_string"},
		{store.Options{Type: store.TypeFile}, "shared_secret"},
		{store.Options{Type: store.TypeFile, Key: key(1)}, "data_dir"},
		{store.Options{Type: store.TypeFile, Key: []byte("short")}, "key is 5 bytes"},
	}
	for _, tc := range tests {
		st, err := store.Open(context.Background(), tc.o)
		if err == nil {
			st.Close()
			t.Errorf("Open(%+v): no error", tc.o)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): %v; want %q in it", tc.o, err, tc.want)
		}
	}
}

// A second process writing the same file (an admin command beside a
// running server) is noticed by the version poll.
func TestFileSeesAnotherProcessWrite(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func() store.Store {
		st, err := store.Open(ctx, store.Options{Type: store.TypeFile, DataDir: dir, Key: key(7), PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	server, admin := open(), open()
	w := server.Watch(ctx)
	if err := store.APIUsers.Put(ctx, admin, &store.APIUser{Name: "bot"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w:
	case <-ctx.Done():
		t.Fatal("no Watch signal for another opener's write")
	}
	if v, err := server.Version(ctx); err != nil || v != 1 {
		t.Fatalf("version seen by the server: %d, %v; want 1", v, err)
	}
}
