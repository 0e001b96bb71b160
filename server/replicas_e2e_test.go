package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
	"github.com/porthole-dev/porthole/server/store"
)

// Two replicas on one PostgreSQL: a session signed in on A works on B,
// a revocation on A holds on B promptly (logged; a loaded machine is no
// measure of speed, so the bound is a generous minute), and a PostgreSQL restart
// neither breaks tunnels nor, once it is back, sign-in.
func TestReplicasOnPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	cfg := testutil.WithConfig(storeConfig(pg.NewDatabase(t)))
	a := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), cfg)
	b := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), cfg)
	ctx := context.Background()

	tok, err := signIn(t, a)
	if err != nil {
		t.Fatalf("sign-in on A: %v", err)
	}
	sessions, err := store.Sessions.List(ctx, a.Server().Store(), store.Query{})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions after one sign-in: %d, %v; want 1 in the shared store", len(sessions), err)
	}
	status, conn, err := dialConnect(b.Addr, b.CAPool, "echo.internal:7000", tok)
	if err != nil || status != http.StatusOK {
		t.Fatalf("CONNECT on B with A's session: %d, %v; want 200", status, err)
	}
	if err := echoOnce(conn, "hello from B"); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	// Revoke on A the way sign-out does: the session goes, its ID is
	// revoked.
	sid := sessions[0].ID
	err = a.Server().Store().Update(ctx, func(tx store.Tx) error {
		if err := store.Sessions.Delete(ctx, tx, sid); err != nil {
			return err
		}
		return store.Revocations.Create(ctx, tx, &store.Revocation{Meta: store.Meta{ID: sid}, Reason: "test", ExpiresAt: time.Now().Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for {
		status, conn, err := dialConnect(b.Addr, b.CAPool, "echo.internal:7000", tok)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusOK {
			t.Logf("B refused the revoked session after %v (status %d)", time.Since(revoked).Round(time.Millisecond), status)
			break
		}
		conn.Close()
		if time.Since(revoked) > time.Minute {
			t.Fatal("B still accepts a session revoked on A after 1m")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A route written on A is served by B too.
	rt := &store.Route{Name: "replica", From: "https://replica.localhost", To: []string{"http://127.0.0.1:9"}}
	if err := store.Routes.Put(ctx, a.Server().Store(), rt); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	for !servesFrom(b, rt.From) {
		if time.Since(written) > time.Minute {
			t.Fatal("B does not serve a route written on A after 1m")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("B serves the route written on A after %v", time.Since(written).Round(time.Millisecond))

	// PostgreSQL goes away: an open tunnel and B's cached session keep
	// working, sign-in (a write) fails, and works again once it is back.
	tok2, err := signIn(t, a)
	if err != nil {
		t.Fatalf("second sign-in: %v", err)
	}
	status, tunnel, err := dialConnect(b.Addr, b.CAPool, "echo.internal:7000", tok2)
	if err != nil || status != http.StatusOK {
		t.Fatalf("CONNECT on B: %d, %v", status, err)
	}
	defer tunnel.Close()
	pg.Stop(t)
	for i := range 3 {
		if err := echoOnce(tunnel, fmt.Sprintf("during the outage %d", i)); err != nil {
			t.Fatalf("open tunnel during the outage: %v", err)
		}
	}
	status, conn2, err := dialConnect(b.Addr, b.CAPool, "echo.internal:7000", tok2)
	if err != nil || status != http.StatusOK {
		t.Fatalf("new CONNECT on B with a cached session during the outage: %d, %v; want 200", status, err)
	}
	if err := echoOnce(conn2, "new tunnel, database down"); err != nil {
		t.Fatal(err)
	}
	conn2.Close()
	if _, err := signIn(t, a); err == nil {
		t.Fatal("sign-in during the outage succeeded; its session cannot have been stored")
	}
	pg.Restart(t)
	deadline := time.Now().Add(30 * time.Second)
	var tok3 string
	for {
		if tok3, err = signIn(t, a); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign-in 30s after PostgreSQL came back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	status, conn3, err := dialConnect(b.Addr, b.CAPool, "echo.internal:7000", tok3)
	if err != nil || status != http.StatusOK {
		t.Fatalf("CONNECT on B with a session made after the outage: %d, %v; want 200", status, err)
	}
	conn3.Close()
	if err := echoOnce(tunnel, "after the outage"); err != nil {
		t.Fatalf("the tunnel opened before the outage, after it: %v", err)
	}
}

func servesFrom(d *testutil.DevServer, from string) bool {
	for _, r := range d.Server().Routes() {
		if r.From == from {
			return true
		}
	}
	return false
}
