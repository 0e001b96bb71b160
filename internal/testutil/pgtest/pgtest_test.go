package pgtest_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
)

func TestStartStopRestart(t *testing.T) {
	c := pgtest.Start(t)
	url := c.NewDatabase(t)
	if want := "postgresql://postgres@127.0.0.1:" + strconv.Itoa(c.Port) + "/db_1?sslmode=disable"; url != want {
		t.Fatalf("NewDatabase: %q; want %q", url, want)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	dial := func() error {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("dialing the running cluster: %v", err)
	}
	c.Stop(t)
	if err := dial(); err == nil {
		t.Fatal("the stopped cluster still accepts connections")
	}
	c.Restart(t)
	if err := dial(); err != nil {
		t.Fatalf("dialing the restarted cluster: %v", err)
	}
}
