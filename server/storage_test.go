package server_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

var testSecret = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func newDev(t *testing.T, dir string, cfg *config.Config) (*server.Server, error) {
	t.Helper()
	s, err := server.New(server.Options{Dev: true, DevDir: dir, Address: "127.0.0.1:1", Config: cfg})
	if err == nil {
		t.Cleanup(func() { s.Shutdown(context.Background()) })
	}
	return s, err
}

func TestDevStoreInDevDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := newDev(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, store.FileName); !strings.Contains(s.Store().Describe(), want) {
		t.Fatalf("dev store: %s; want the file %s", s.Store().Describe(), want)
	}
	mfs, err := s.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	up := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "porthole_store_up" {
			up = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if up != 1 {
		t.Fatalf("porthole_store_up: %v; want 1", up)
	}
	sess := &store.Session{UserID: "alice", RefreshToken: "secret"}
	if err := store.Sessions.Put(ctx, s.Store(), sess); err != nil {
		t.Fatal(err)
	}
	s.Shutdown(ctx)

	// A restarted dev server reads it back (the key file kept the key).
	s2, err := newDev(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Sessions.Get(ctx, s2.Store(), sess.ID)
	if err != nil || got.RefreshToken != "secret" {
		t.Fatalf("session after a dev restart: %+v, %v", got, err)
	}
}

func TestStorageConfig(t *testing.T) {
	pg := pgtest.Start(t)
	tests := []struct {
		name     string
		cfg      config.Config
		dataDir  bool
		describe string
		wantErr  string
	}{
		{name: "memory", cfg: config.Config{Storage: config.Storage{Type: "memory"}}, describe: "memory"},
		{name: "data_dir", cfg: config.Config{Storage: config.Storage{DataDir: "DATADIR"}}, describe: "DATADIR/" + store.FileName},
		{name: "dev on PostgreSQL", cfg: config.Config{SharedSecret: testSecret,
			Storage: config.Storage{Type: "postgres", ConnectionString: pg.NewDatabase(t)}}, describe: "PostgreSQL 127.0.0.1"},
		{name: "PostgreSQL without shared_secret", cfg: config.Config{Storage: config.Storage{Type: "postgres", ConnectionString: pg.NewDatabase(t)}},
			wantErr: "needs shared_secret"},
		{name: "PostgreSQL down", cfg: config.Config{SharedSecret: testSecret, Storage: config.Storage{Type: "postgres",
			ConnectionString: "postgresql://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}}, wantErr: "opening the store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dd := t.TempDir()
			tc.cfg.Storage.DataDir = strings.ReplaceAll(tc.cfg.Storage.DataDir, "DATADIR", dd)
			s, err := newDev(t, t.TempDir(), &tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(tc.describe, "DATADIR", dd); !strings.Contains(s.Store().Describe(), want) {
				t.Fatalf("store %q; want %q in it", s.Store().Describe(), want)
			}
		})
	}
}
