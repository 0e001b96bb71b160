package servercmd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

// storeKeyFile holds --dev's key for secrets at rest (a dev server has
// no shared_secret), next to the embedded store in the dev dir.
const storeKeyFile = "store.key"

// openStore opens the store the server keeps its records in (the
// management API's routes, policies, API users): the config's
// databroker_storage_* and data_dir; with --dev an embedded file in the
// dev dir unless the config says otherwise.
func openStore(ctx context.Context, cfg *config.Config, devDir string) (store.Store, error) {
	o := store.Options{Type: cfg.Storage.EffectiveType(), DataDir: cfg.Storage.DataDir, ConnString: cfg.Storage.ConnectionString}
	if secret := config.DecodeSecret(cfg.SharedSecret); secret != nil {
		o.Key = store.DeriveKey(secret)
	}
	if o.Type == store.TypeFile && o.DataDir == "" {
		if devDir != "" {
			o.DataDir = devDir
		} else {
			d, err := os.UserConfigDir()
			if err != nil {
				return nil, fmt.Errorf("finding the default data_dir (set data_dir): %w", err)
			}
			o.DataDir = filepath.Join(d, "pomerium-server")
		}
	}
	if o.Key == nil && devDir != "" && o.Type != store.TypeMemory {
		k, err := devStoreKey(filepath.Join(devDir, storeKeyFile))
		if err != nil {
			return nil, err
		}
		o.Key = k
	}
	if o.Key == nil && o.Type != store.TypeMemory {
		return nil, fmt.Errorf("databroker_storage_type %s needs shared_secret (head -c32 /dev/urandom | base64) to encrypt secrets at rest", o.Type)
	}
	st, err := store.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("opening the %s store: %w", o.Type, err)
	}
	return st, nil
}

// devStoreKey reads the dev store's key, making it (0600) on first use.
func devStoreKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("%s: want 32 bytes, got %d (delete it together with the dev store to start over)", path, len(b))
		}
		return store.DeriveKey(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return store.DeriveKey(b), nil
}
