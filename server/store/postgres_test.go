package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
	"github.com/porthole-dev/porthole/server/store"
)

func openPG(t *testing.T, url string, poll time.Duration) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Type: store.TypePostgres, ConnString: url, Key: key(3), PollInterval: poll})
	if err != nil {
		t.Fatalf("opening the PostgreSQL store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitFor waits for a Watch signal after which cond holds.
func waitFor(t *testing.T, w <-chan struct{}, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-w:
		case <-deadline:
			t.Fatalf("%s: not within %v", what, within)
		}
	}
}

func TestPostgresReplicas(t *testing.T) {
	c := pgtest.Start(t)
	url := c.NewDatabase(t)

	// Replicas starting together migrate once, under the advisory lock.
	stores := make([]store.Store, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = store.Open(context.Background(), store.Options{Type: store.TypePostgres, ConnString: url, Key: key(3), PollInterval: time.Hour})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	a, b := stores[0], stores[1]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// LISTEN/NOTIFY alone (the poll is an hour) tells B about A's write.
	w := b.Watch(ctx)
	rv := &store.Revocation{Meta: store.Meta{ID: "sess-1"}, UserID: "alice"}
	if err := store.Revocations.Put(ctx, a, rv); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, time.Minute, "B sees A's revocation", func() bool {
		ch, _, err := b.ChangesSince(ctx, rv.Version-1)
		return err == nil && len(ch) == 1 && ch[0].ID == "sess-1"
	})

	// An outage: writes fail as unavailable, then work again, and the
	// notifications come back without anyone reopening anything.
	c.Stop(t)
	err := store.Routes.Put(ctx, a, &store.Route{Name: "during outage"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write during the outage: %v; want ErrUnavailable", err)
	}
	c.Restart(t)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err = store.Routes.Put(ctx, a, &store.Route{Meta: store.Meta{ID: "after"}, Name: "after outage"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes after PostgreSQL came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// B's listener reconnects with backoff; wait for a write to notify it.
	deadline = time.Now().Add(2 * time.Minute)
	for i := 0; ; i++ {
		w := b.Watch(ctx)
		r := &store.Namespace{Name: "probe"}
		if err := store.Namespaces.Put(ctx, a, r); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w:
			if _, err := store.Namespaces.Get(ctx, b, r.ID); err != nil {
				t.Fatalf("B after the outage: %v", err)
			}
			return
		case <-time.After(time.Second):
			if time.Now().After(deadline) {
				t.Fatal("B got no notification within 2m after PostgreSQL came back")
			}
		}
	}
}

func TestPostgresPollSafetyNet(t *testing.T) {
	c := pgtest.Start(t)
	url := c.NewDatabase(t)
	a := openPG(t, url, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := a.Watch(ctx)
	// A write that sends no NOTIFY (as if it were lost): only the poll can
	// see the version move.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE porthole_state SET value = value + 1 WHERE name = 'version'"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w:
	case <-ctx.Done():
		t.Fatal("the version poll did not notice a change within 1m")
	}
}

func TestPostgresSchemaTooNew(t *testing.T) {
	c := pgtest.Start(t)
	url := c.NewDatabase(t)
	openPG(t, url, time.Hour).Close()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE porthole_schema SET version = 42"); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(context.Background(), store.Options{Type: store.TypePostgres, ConnString: url, Key: key(3)})
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "42") {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew naming 42", err)
	}
}
