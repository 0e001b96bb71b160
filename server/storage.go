package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

const (
	cleanupInterval   = 5 * time.Minute
	activityRetention = 30 * 24 * time.Hour
	storeKeyFile      = "store.key"
	storeOpenTimeout  = 30 * time.Second
)

// storage is the server's store with its hot-path cache and the
// background work that keeps them tidy.
type storage struct {
	st    store.Store
	cache *store.Cache
	stop  context.CancelFunc
	done  chan struct{}
}

// openStorage opens the store the configuration names: the embedded file
// under the data directory by default, PostgreSQL for replicas, memory on
// request (or when a library user gave no data directory at all).
func (s *Server) openStorage(opts Options, cfg *config.Config) error {
	sc := cfg.Storage
	dir := firstNonEmpty(opts.DataDir, sc.DataDir)
	if dir == "" && opts.Dev {
		dir = opts.DevDir
	}
	typ := sc.EffectiveType()
	if typ == config.StorageFile && dir == "" {
		typ = config.StorageMemory // in-process use without a data dir (tests)
	}
	key, err := storeKey(cfg, typ, dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
	defer cancel()
	st, err := store.Open(ctx, store.Options{Type: typ, DataDir: dir, ConnString: sc.ConnectionString, Key: key, Logger: s.log})
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	cache, err := store.NewCache(ctx, st, s.log)
	if err != nil {
		st.Close()
		return fmt.Errorf("reading the store (%s): %w", st.Describe(), err)
	}
	bg, stop := context.WithCancel(context.Background())
	s.storage = &storage{st: st, cache: cache, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.storage.done)
		store.RunCleanup(bg, st, cleanupInterval, activityRetention, s.log)
	}()
	// Routes, policies and namespaces managed through the API feed the
	// route table: rebuild it when any of them changes, on any replica.
	cache.OnChange(func(kinds map[store.Kind]bool) {
		if kinds == nil || kinds[store.KindRoute] || kinds[store.KindPolicy] || kinds[store.KindNamespace] {
			if err := s.table.Rebuild(bg); err != nil {
				s.log.Warn("store: route change not applied; the previous routes keep serving", "err", err)
			}
		}
	})
	s.metrics.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "porthole_store_up",
		Help: "1 when the state store answers a ping (checked at scrape time), else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if st.Ping(ctx) != nil {
			return 0
		}
		return 1
	}))
	s.log.Info("store", "backend", st.Describe())
	return nil
}

// Store is the server's state store.
func (s *Server) Store() store.Store { return s.storage.st }

// StoreCache answers per-request questions (sessions, revocations) from
// memory, following the store's change feed.
func (s *Server) StoreCache() *store.Cache { return s.storage.cache }

func (st *storage) close() {
	if st == nil {
		return
	}
	st.stop()
	<-st.done
	st.cache.Close()
	st.st.Close()
}

// storeKey derives the at-rest key from shared_secret. Without one, a
// single server keeps a random key next to its file store; replicas on
// PostgreSQL must share shared_secret to read each other's records.
func storeKey(cfg *config.Config, typ, dir string) ([]byte, error) {
	if b := config.DecodeSecret(cfg.SharedSecret); b != nil {
		return store.DeriveKey(b), nil
	}
	switch typ {
	case config.StorageMemory:
		return nil, nil
	case config.StoragePostgres:
		return nil, errors.New("databroker_storage_type postgres needs shared_secret (the same on every replica) to encrypt secrets at rest: head -c32 /dev/urandom | base64")
	}
	path := filepath.Join(dir, storeKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == store.KeySize:
		return b, nil
	case err == nil:
		return nil, fmt.Errorf("%s is %d bytes, not %d: restore it from a backup (without it the stored secrets cannot be read), or set shared_secret", path, len(b), store.KeySize)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading the store key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w (set data_dir or --data-dir to a directory the server may write)", err)
	}
	b = make([]byte, store.KeySize)
	rand.Read(b)
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing the store key: %w", err)
	}
	return b, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// withStorage opens the store as New's last step, so no earlier failure
// leaves it open; Check opens nothing.
func (s *Server) withStorage(opts Options, cfg *config.Config) (*Server, error) {
	if opts.checkOnly {
		return s, nil
	}
	if err := s.openStorage(opts, cfg); err != nil {
		s.closeParts()
		return nil, err
	}
	if err := s.setupAPI(context.Background(), opts, cfg); err != nil {
		s.closeParts()
		return nil, err
	}
	return s, nil
}
