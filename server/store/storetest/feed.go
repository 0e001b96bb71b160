package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

func testTransactions(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	v0, err := st.Version(ctx)
	must(t, "version", err)

	// Commit: both records, one version.
	s := &store.Session{UserID: "u1", ExpiresAt: t0}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := store.Sessions.Put(ctx, tx, s); err != nil {
			return err
		}
		got, err := store.Sessions.Get(ctx, tx, s.ID)
		if err != nil {
			return fmt.Errorf("reading own write inside the transaction: %w", err)
		}
		if got.UserID != "u1" {
			return fmt.Errorf("own write read back as %+v", got)
		}
		return store.Revocations.Put(ctx, tx, &store.Revocation{Meta: store.Meta{ID: "old-session"}, UserID: "u1"})
	})
	must(t, "update", err)
	v1, err := st.Version(ctx)
	must(t, "version", err)
	if v1 <= v0 {
		t.Fatalf("version after a committed transaction: %d; want more than %d", v1, v0)
	}
	rv, err := store.Revocations.Get(ctx, st, "old-session")
	must(t, "get revocation", err)
	if rv.Version != s.Version || s.Version != v1 {
		t.Fatalf("versions in one transaction: session %d, revocation %d, store %d; want all equal", s.Version, rv.Version, v1)
	}

	// Rollback: nothing of a failed transaction is kept, the version stays.
	boom := errors.New("boom")
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := store.Sessions.Delete(ctx, tx, s.ID); err != nil {
			return err
		}
		if err := store.Routes.Put(ctx, tx, &store.Route{Meta: store.Meta{ID: "r-new"}, Name: "x"}); err != nil {
			return err
		}
		s2 := *s
		s2.Version = 0 // deleted above: replace, do not compare
		s2.Email = "changed@example.com"
		if err := store.Sessions.Put(ctx, tx, &s2); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "failed update", err, boom)
	got, err := store.Sessions.Get(ctx, st, s.ID)
	must(t, "session after rollback", err)
	if got.Email != "" || got.Version != s.Version {
		t.Fatalf("session after rollback: %+v; want it unchanged", got)
	}
	_, err = store.Routes.Get(ctx, st, "r-new")
	wantErr(t, "route written in a rolled back transaction", err, store.ErrNotFound)
	v2, err := st.Version(ctx)
	must(t, "version", err)
	if v2 != v1 {
		t.Fatalf("version after rollback: %d; want %d", v2, v1)
	}
	changes, _, err := st.ChangesSince(ctx, v1)
	must(t, "changes since", err)
	if len(changes) != 0 {
		t.Fatalf("change feed after rollback: %+v; want nothing", changes)
	}

	// An error from a store call inside the transaction rolls it back too.
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := store.Routes.Put(ctx, tx, &store.Route{Meta: store.Meta{ID: "r2"}}); err != nil {
			return err
		}
		return store.Sessions.Create(ctx, tx, &store.Session{Meta: store.Meta{ID: s.ID}})
	})
	wantErr(t, "update with a duplicate create", err, store.ErrAlreadyExists)
	_, err = store.Routes.Get(ctx, st, "r2")
	wantErr(t, "route from the failed transaction", err, store.ErrNotFound)
}

func testChangeFeed(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	v0, err := st.Version(ctx)
	must(t, "version", err)
	r := &store.Route{Name: "a"}
	must(t, "put", store.Routes.Put(ctx, st, r))
	p := &store.Policy{Name: "p"}
	must(t, "put", store.Policies.Put(ctx, st, p))
	must(t, "delete", store.Routes.Delete(ctx, st, r.ID))

	changes, v, err := st.ChangesSince(ctx, v0)
	must(t, "changes since", err)
	want := []store.Change{
		{Kind: store.KindRoute, ID: r.ID},
		{Kind: store.KindPolicy, ID: p.ID},
		{Kind: store.KindRoute, ID: r.ID, Deleted: true},
	}
	if len(changes) != len(want) {
		t.Fatalf("changes: %+v; want %d", changes, len(want))
	}
	last := v0
	for i, c := range changes {
		if c.Kind != want[i].Kind || c.ID != want[i].ID || c.Deleted != want[i].Deleted || c.Version <= last {
			t.Fatalf("change %d: %+v; want %+v with a version above %d", i, c, want[i], last)
		}
		last = c.Version
	}
	if v != last {
		t.Fatalf("version %d; want the last change's %d", v, last)
	}
	tail, _, err := st.ChangesSince(ctx, changes[1].Version)
	must(t, "changes since the second", err)
	if len(tail) != 1 || !tail[0].Deleted {
		t.Fatalf("changes after the second: %+v; want the delete only", tail)
	}
	none, v2, err := st.ChangesSince(ctx, v)
	must(t, "changes since now", err)
	if len(none) != 0 || v2 != v {
		t.Fatalf("changes since the current version: %+v, %d", none, v2)
	}
}

func testWatch(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	w := st.Watch(ctx)
	must(t, "put", store.Routes.Put(ctx, st, &store.Route{Name: "a"}))
	select {
	case <-w:
	case <-time.After(10 * time.Second):
		t.Fatal("no Watch signal within 10s of a write")
	}
}

func testConcurrentWriters(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	const writers, each = 4, 15
	v0, err := st.Version(ctx)
	must(t, "version", err)
	counter := &store.Settings{Meta: store.Meta{ID: "counter"}}
	must(t, "put counter", store.SettingsTable.Put(ctx, st, counter))

	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := store.Routes.Put(ctx, st, &store.Route{Meta: store.Meta{ID: fmt.Sprintf("w%d-%d", w, i)}}); err != nil {
					errs <- err
				}
				// Read-modify-write in a transaction: no increment may be lost.
				err := st.Update(ctx, func(tx store.Tx) error {
					c, err := store.SettingsTable.Get(ctx, tx, "counter")
					if err != nil {
						return err
					}
					c.CookieExpire = fmt.Sprint(atoi(c.CookieExpire) + 1)
					return store.SettingsTable.Put(ctx, tx, c)
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write: %v", err)
	}
	routes, err := store.Routes.List(ctx, st, store.Query{})
	must(t, "list", err)
	if len(routes) != writers*each {
		t.Fatalf("routes after concurrent writes: %d; want %d", len(routes), writers*each)
	}
	c, err := store.SettingsTable.Get(ctx, st, "counter")
	must(t, "get counter", err)
	if atoi(c.CookieExpire) != writers*each {
		t.Fatalf("counter after %d increments: %s (lost updates)", writers*each, c.CookieExpire)
	}
	changes, v, err := st.ChangesSince(ctx, v0)
	must(t, "changes", err)
	if want := 1 + 2*writers*each; len(changes) != want || v != v0+uint64(want) {
		t.Fatalf("change feed: %d changes, version %d; want %d changes, version %d", len(changes), v, want, v0+uint64(want))
	}
	seen := map[uint64]bool{}
	for _, ch := range changes {
		if seen[ch.Version] {
			t.Fatalf("version %d used by two single-write transactions", ch.Version)
		}
		seen[ch.Version] = true
	}
}

func atoi(s string) (n int) {
	fmt.Sscan(s, &n)
	return n
}

func testCleanup(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	now := time.Now()
	put := func(err error) { t.Helper(); must(t, "put", err) }
	put(store.Sessions.Put(ctx, st, &store.Session{Meta: store.Meta{ID: "expired"}, ExpiresAt: now.Add(-time.Minute)}))
	put(store.Sessions.Put(ctx, st, &store.Session{Meta: store.Meta{ID: "live"}, ExpiresAt: now.Add(time.Hour)}))
	put(store.Sessions.Put(ctx, st, &store.Session{Meta: store.Meta{ID: "no-expiry"}}))
	put(store.Revocations.Put(ctx, st, &store.Revocation{Meta: store.Meta{ID: "old-rev"}, ExpiresAt: now.Add(-time.Second)}))
	put(store.Revocations.Put(ctx, st, &store.Revocation{Meta: store.Meta{ID: "rev"}, ExpiresAt: now.Add(time.Hour)}))
	put(store.ServiceAccounts.Put(ctx, st, &store.ServiceAccount{Meta: store.Meta{ID: "sa"}, ExpiresAt: now.Add(-time.Hour)}))
	put(store.Activities.Put(ctx, st, &store.Activity{Meta: store.Meta{ID: "act"}}))

	n, err := st.Cleanup(ctx, now, now.Add(-time.Hour))
	must(t, "cleanup", err)
	if n != 2 {
		t.Fatalf("cleanup deleted %d records; want 2 (the expired session and revocation)", n)
	}
	for _, c := range []struct {
		k       store.Kind
		id      string
		present bool
	}{
		{store.KindSession, "expired", false}, {store.KindSession, "live", true}, {store.KindSession, "no-expiry", true},
		{store.KindRevocation, "old-rev", false}, {store.KindRevocation, "rev", true},
		{store.KindServiceAccount, "sa", true}, {store.KindActivity, "act", true},
	} {
		var err error
		switch c.k {
		case store.KindSession:
			_, err = store.Sessions.Get(ctx, st, c.id)
		case store.KindRevocation:
			_, err = store.Revocations.Get(ctx, st, c.id)
		case store.KindServiceAccount:
			_, err = store.ServiceAccounts.Get(ctx, st, c.id)
		case store.KindActivity:
			_, err = store.Activities.Get(ctx, st, c.id)
		}
		if c.present && err != nil || !c.present && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s %s after cleanup: err %v; want present=%v", c.k, c.id, err, c.present)
		}
	}
	// Activity entries go once older than the cut-off.
	n, err = st.Cleanup(ctx, now, time.Now().Add(time.Hour))
	must(t, "second cleanup", err)
	if n != 1 {
		t.Fatalf("second cleanup deleted %d; want the 1 activity entry", n)
	}
	// Trimming the change log: a far-future cleanup drops all of it, and
	// asking for old changes then says so.
	_, err = st.Cleanup(ctx, now.Add(24*time.Hour), time.Time{})
	must(t, "trimming cleanup", err)
	v, err := st.Version(ctx)
	must(t, "version", err)
	_, _, err = st.ChangesSince(ctx, 0)
	wantErr(t, "changes since 0 after trimming", err, store.ErrChangesTrimmed)
	if _, _, err := st.ChangesSince(ctx, v); err != nil {
		t.Fatalf("changes since the current version after trimming: %v", err)
	}
}

func testPersistence(t *testing.T, o Opener) {
	ctx := ctxT(t)
	st, err := o(key(1))
	must(t, "open", err)
	s := &store.Session{UserID: "u1", RefreshToken: "refresh-secret", Claims: map[string]any{"x": "y"}}
	must(t, "put", store.Sessions.Put(ctx, st, s))
	kp := &store.KeyPair{Name: "kp", Certificate: "cert", Key: "private"}
	must(t, "put", store.KeyPairs.Put(ctx, st, kp))
	v, err := st.Version(ctx)
	must(t, "version", err)
	must(t, "close", st.Close())

	st2 := open(t, o, key(1))
	got, err := store.Sessions.Get(ctx, st2, s.ID)
	must(t, "get after reopen", err)
	same(t, "session after reopen", got, s)
	v2, err := st2.Version(ctx)
	must(t, "version after reopen", err)
	if v2 != v {
		t.Fatalf("version after reopen: %d; want %d", v2, v)
	}
	must(t, "put after reopen", store.Routes.Put(ctx, st2, &store.Route{Name: "r"}))
	if v3, _ := st2.Version(ctx); v3 <= v {
		t.Fatalf("version after a write after reopen: %d; want above %d", v3, v)
	}
	must(t, "close", st2.Close())

	// Another shared_secret cannot read the encrypted fields.
	st3 := open(t, o, key(2))
	if _, err := store.KeyPairs.Get(ctx, st3, kp.ID); err == nil {
		t.Fatal("reading an encrypted key pair with another key: no error")
	}
	if ns, err := store.Namespaces.List(ctx, st3, store.Query{}); err != nil || len(ns) != 0 {
		t.Fatalf("records without secrets under another key: %v, %v", ns, err)
	}
}
