package api

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/server/store"
)

// EnsureTokenFile makes sure path holds a working API user token (0600),
// for --dev: a token already there is kept while its user exists and it
// still matches (so restarts on a persistent store do not pile up
// users); otherwise a new API user named name is made and its token
// written. It reports whether a new user was made.
func EnsureTokenFile(ctx context.Context, st store.Store, path, name string) (bool, error) {
	if b, err := os.ReadFile(path); err == nil {
		if id, secret, ok := strings.Cut(strings.TrimSpace(string(b)), "."); ok {
			u, err := store.APIUsers.Get(ctx, st, id)
			if err == nil && !u.Disabled && store.CheckSecret(u.SecretHash, secret) {
				return false, os.Chmod(path, 0o600)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	_, tok, err := CreateAPIUser(ctx, st, name, "admin", "bootstrap")
	if err != nil {
		return false, fmt.Errorf("creating the dev API user: %w", err)
	}
	if err := atomicfile.Write(path, []byte(tok+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("writing the API user token: %w", err)
	}
	return true, nil
}

// Heartbeat records this process as a replica of the cluster (rec's ID
// and StartedAt stay; LastSeen moves) every ReplicaHeartbeat until ctx
// ends. A failed write is logged by the caller's logf and retried on the
// next beat: the cluster view is a report, never on a request's path.
func Heartbeat(ctx context.Context, st store.Store, rec *store.Replica, logf func(error)) {
	beat := func() {
		now := time.Now()
		r := *rec
		r.Meta.Version, r.LastSeen, r.ExpiresAt = 0, now, now.Add(24*time.Hour)
		if err := store.Replicas.Put(ctx, st, &r); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrClosed) {
			logf(err)
		}
	}
	beat()
	t := time.NewTicker(ReplicaHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			beat()
		}
	}
}
