package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
)

// New tunnels of a signed-in user reach no database: session, revocation
// and route lookups come from memory. PostgreSQL logs every statement; the
// only ones allowed while the CONNECTs run are the background version
// check and reading the change feed after a write.
func TestHotPathQueriesNoDatabase(t *testing.T) {
	pg := pgtest.Start(t, pgtest.LogStatements())
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(storeConfig(pg.NewDatabase(t))))
	tok, err := signIn(t, d)
	if err != nil {
		t.Fatal(err)
	}
	connect := func() {
		status, conn, err := dialConnect(d.Addr, d.CAPool, "echo.internal:7000", tok)
		if err != nil || status != http.StatusOK {
			t.Fatalf("CONNECT: %d, %v", status, err)
		}
		conn.Close()
	}
	connect() // the first lookup of the session may read it
	// The store's first cleanup runs at start-up in the background; on a
	// slow machine its transaction came among the CONNECTs below. It ends
	// with the change log's trim query and a commit on the same backend.
	deadline := time.Now().Add(30 * time.Second)
	for !cleanupCommitted(pg.Log()) {
		if time.Now().After(deadline) {
			t.Fatal("the store's start-up cleanup did not commit within 30s")
		}
		time.Sleep(10 * time.Millisecond) // polling the server's log
	}
	before := len(pg.Log())
	if !strings.Contains(pg.Log(), "INSERT INTO porthole_records") {
		t.Fatal("the PostgreSQL log shows no sign-in write: statements are not being logged")
	}
	for range 50 {
		connect()
	}
	// Following the feed after the sign-in's writes (version checks,
	// changes, rebuilding the route table from whole lists, the pool's
	// liveness pings) may still be under way; a lookup by ID or a write
	// would be per request.
	var perRequest, background []string
	for _, line := range strings.Split(pg.Log()[before:], "\n") {
		if !strings.Contains(line, "statement:") && !strings.Contains(line, "execute ") {
			continue
		}
		switch {
		case strings.Contains(line, "FROM porthole_state WHERE"), strings.Contains(line, "FROM porthole_changes WHERE"),
			strings.Contains(line, "FROM porthole_records WHERE kind = $1 ORDER BY"), strings.Contains(line, "-- ping"):
			background = append(background, line)
		default:
			perRequest = append(perRequest, line)
		}
	}
	if len(perRequest) > 0 || len(background) >= 25 {
		t.Fatalf("50 new tunnels ran %d lookups or writes (want none) and %d feed reads (want a few):\n%s",
			len(perRequest), len(background), strings.Join(append(perRequest, background...), "\n"))
	}
}

// cleanupCommitted reports whether log shows the store's cleanup (its
// last query, the change log's trim) followed by a commit on the same
// backend (the "[pid]" of each line).
func cleanupCommitted(log string) bool {
	lines := strings.Split(log, "\n")
	for i, line := range lines {
		if !strings.Contains(line, "FROM porthole_changes WHERE at <") {
			continue
		}
		_, rest, ok := strings.Cut(line, "[")
		pid, _, ok2 := strings.Cut(rest, "]")
		if !ok || !ok2 {
			continue
		}
		for _, later := range lines[i+1:] {
			if strings.Contains(later, "["+pid+"]") && strings.Contains(later, "statement: commit") {
				return true
			}
		}
	}
	return false
}
