package tunnel_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

// TestEarlyDataReplayed: over HTTP/2 the first local bytes go out before
// the proxy answers; when it refuses the stale token, what was read is
// replayed after the new sign-in, whatever its size (below, at and above
// what is sent early), with the half-close in its place.
func TestEarlyDataReplayed(t *testing.T) {
	p := startFakeProxy(t, true)
	b := fakeBrowser(p)
	ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
		Destination: echoDest(t, target{Addr: p.Addr, CAPool: p.CAPool}, "echo.internal:7000"),
		TLSConfig:   &tls.Config{RootCAs: p.CAPool},
		Auth:        newAuth(t, p.CAPool, b),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Stop()
	if got, err := roundTrip(ln.Addr().String(), []byte("sign in")); err != nil || string(got) != "sign in" {
		t.Fatalf("first connection: %q, %v", got, err)
	}
	for _, size := range []int64{0, 1, 64 << 10, 64<<10 + 1, 3 << 20} {
		p.Restart(t) // the cached token is refused: one more sign-in
		before := b.opens.Load()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		testutil.EchoCheck(t, c, size)
		c.Close()
		if b.opens.Load() != before+1 {
			t.Fatalf("%d bytes: sign-ins %d; want 1 after the refusal", size, b.opens.Load()-before)
		}
	}
}
