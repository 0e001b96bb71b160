package tunnel_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

// TestUDPListenerIdleAndCounters: each local peer gets its own tunnel;
// a peer quiet for the idle timeout has its tunnel closed (with its
// byte counts), and its next datagram opens a new one; the counters add
// up. Against the dev server and a loopback UDP echo.
func TestUDPListenerIdleAndCounters(t *testing.T) {
	echo := testutil.StartUDPEcho(t)
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: udp+https://dns.internal:53
    to: udp://`+echo+`
    allow_any_authenticated_user: true
`))
	dst, err := tunnel.ParseUDPDestination("udp+https://"+ds.Addr+"/dns.internal:53", "")
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{pool: ds.CAPool}
	var log eventLog
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The idle clock starts once a tunnel is open and runs while the echo
	// makes its round trip through the server: it must be far longer than
	// that trip on a loaded machine, or the tunnel idles out before the
	// echo is back (and the echo is lost).
	ln, err := tunnel.ListenUDP(ctx, "127.0.0.1:0", tunnel.Config{
		Destination: dst, TLSConfig: &tls.Config{RootCAs: ds.CAPool}, Auth: newAuth(t, ds.CAPool, b), OnEvent: log.add,
	}, tunnel.UDPOptions{IdleTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Stop()
	peer := func() net.Conn {
		c, err := net.Dial("udp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	echoOnce := func(c net.Conn, msg string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("echo: got %q, %v; want %q", buf[:n], err, msg)
		}
	}
	a, c := peer(), peer()
	echoOnce(a, "from a")
	echoOnce(c, "from c")
	if st := ln.Stats(); st.Total != 2 {
		t.Errorf("tunnels opened for two peers: got %d; want 2", st.Total)
	}
	deadline := time.Now().Add(time.Minute)
	for log.count(tunnel.EventClosed) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("idle tunnels not closed: events %v", log.all())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var sent, received int64
	for _, e := range log.all() {
		if e.Kind == tunnel.EventClosed {
			sent += e.BytesSent
			received += e.BytesReceived
		}
	}
	if sent != 12 || received != 12 {
		t.Errorf("closed events: sent %d received %d; want 12 and 12", sent, received)
	}
	echoOnce(a, "again")
	// The counters move just after the datagram is handed on, so the
	// echo can reach the peer a moment before they do: poll.
	deadline = time.Now().Add(30 * time.Second)
	for {
		st := ln.Stats()
		if st.Total == 3 && st.BytesSent == 17 && st.BytesReceived == 17 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats after a new tunnel for a: %+v; want 3 tunnels, 17 bytes each way", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := b.opens.Load(); got != 1 {
		t.Errorf("sign-ins: got %d; want 1", got)
	}
}
