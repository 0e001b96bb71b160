package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
)

// BenchmarkConnectStore measures new CONNECTs per second (TLS handshake,
// CONNECT, 200, close; each request checks the session and its revocation
// through the store's cache) against a dev server on the embedded file
// store and one on PostgreSQL, interleaved in the same run so both see the
// same machine load. pg/file is the ratio to watch: the hot path must not
// hit the database, so it should stay near 1 (at least 0.9).
func BenchmarkConnectStore(b *testing.B) {
	pg := pgtest.Start(b)
	file := testutil.StartDevServer(b, testutil.AutoLogin("dev@example.com"))
	onPG := testutil.StartDevServer(b, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(storeConfig(pg.NewDatabase(b))))
	servers := []*testutil.DevServer{file, onPG}
	toks := make([]string, len(servers))
	for i, d := range servers {
		tok, err := signIn(b, d)
		if err != nil {
			b.Fatalf("sign-in: %v", err)
		}
		toks[i] = tok
		connectOnce(b, d, tok) // warm: the session is now cached
	}
	var spent [2]time.Duration
	b.ResetTimer()
	for n := range b.N {
		// Alternate which goes first so neither always follows the other.
		for k := range 2 {
			i := (n + k) % 2
			start := time.Now()
			connectOnce(b, servers[i], toks[i])
			spent[i] += time.Since(start)
		}
	}
	b.StopTimer()
	fileRate := float64(b.N) / spent[0].Seconds()
	pgRate := float64(b.N) / spent[1].Seconds()
	b.ReportMetric(fileRate, "file-connects/s")
	b.ReportMetric(pgRate, "pg-connects/s")
	b.ReportMetric(pgRate/fileRate, "pg/file")
}

func connectOnce(b *testing.B, d *testutil.DevServer, tok string) {
	status, conn, err := dialConnect(d.Addr, d.CAPool, "echo.internal:7000", tok)
	if err != nil || status != http.StatusOK {
		b.Fatalf("CONNECT: %d, %v", status, err)
	}
	conn.Close()
}
