package store_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

// eventually polls cond until it holds or a minute passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 1m", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCacheFollowsTheFeed(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Type: store.TypeFile, DataDir: t.TempDir(), Key: key(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := store.Revocations.Put(ctx, st, &store.Revocation{Meta: store.Meta{ID: "before"}}); err != nil {
		t.Fatal(err)
	}
	c, err := store.NewCache(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	kindsSeen := make(chan map[store.Kind]bool, 100)
	c.OnChange(func(k map[store.Kind]bool) { kindsSeen <- k })

	if !c.Revoked("before") || c.Revoked("s1") {
		t.Fatal("revocations at start: want only \"before\"")
	}
	s := &store.Session{Meta: store.Meta{ID: "s1"}, UserID: "alice", Email: "a@example.com"}
	if _, err := c.Session(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing session: %v; want ErrNotFound", err)
	}
	if err := store.Sessions.Put(ctx, st, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache sees the new session", func() bool {
		got, err := c.Session(ctx, "s1")
		return err == nil && got.Email == "a@example.com"
	})
	s.Email = "b@example.com"
	s.Version = 0
	if err := store.Sessions.Put(ctx, st, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache sees the changed session", func() bool {
		got, err := c.Session(ctx, "s1")
		return err == nil && got.Email == "b@example.com"
	})
	if err := st.Update(ctx, func(tx store.Tx) error {
		if err := store.Sessions.Delete(ctx, tx, "s1"); err != nil {
			return err
		}
		return store.Revocations.Put(ctx, tx, &store.Revocation{Meta: store.Meta{ID: "s1"}})
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache sees the revocation", func() bool { return c.Revoked("s1") })
	if _, err := c.Session(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v; want ErrNotFound", err)
	}
	if err := store.Revocations.Delete(ctx, st, "before"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache drops a deleted revocation", func() bool { return !c.Revoked("before") })
	var sawSession bool
	for len(kindsSeen) > 0 {
		if k := <-kindsSeen; k[store.KindSession] {
			sawSession = true
		}
	}
	if !sawSession {
		t.Fatal("OnChange never reported a session change")
	}

	// Service accounts are cached and invalidated the same way.
	sa := &store.ServiceAccount{Meta: store.Meta{ID: "sa1"}, UserID: "bot@ns.pomerium", SecretHash: store.HashSecret("x")}
	if err := store.ServiceAccounts.Put(ctx, st, sa); err != nil {
		t.Fatal(err)
	}
	eventually(t, "service account cached", func() bool { got, err := c.ServiceAccount(ctx, "sa1"); return err == nil && got.UserID == sa.UserID })
	if err := store.ServiceAccounts.Delete(ctx, st, "sa1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted service account gone", func() bool {
		_, err := c.ServiceAccount(ctx, "sa1")
		return errors.Is(err, store.ErrNotFound)
	})

	// With the store gone, what is cached still answers.
	if err := store.Sessions.Put(ctx, st, &store.Session{Meta: store.Meta{ID: "s2"}, UserID: "bob"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "s2 cached", func() bool { got, err := c.Session(ctx, "s2"); return err == nil && got.UserID == "bob" })
	st.Close()
	if got, err := c.Session(ctx, "s2"); err != nil || got.UserID != "bob" {
		t.Fatalf("cached session with the store closed: %v, %v", got, err)
	}
	if !c.Revoked("s1") {
		t.Fatal("revocation forgotten with the store closed")
	}
	if _, err := c.Session(ctx, "never-seen"); err == nil {
		t.Fatal("an uncached session with the store closed: no error")
	}
}

func TestRunCleanup(t *testing.T) {
	st, err := store.OpenMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Sessions.Put(ctx, st, &store.Session{Meta: store.Meta{ID: "old"}, ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { store.RunCleanup(ctx, st, time.Hour, time.Hour, slogDiscard()); close(done) }()
	eventually(t, "the expired session cleaned up", func() bool {
		_, err := store.Sessions.Get(ctx, st, "old")
		return errors.Is(err, store.ErrNotFound)
	})
	cancel()
	<-done
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
