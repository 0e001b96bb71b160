package cli_test

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// udpDevServer is a dev server with udp routes to a loopback UDP echo:
// dns.internal:53 for dev@example.com, secret.internal:53 for an admin.
func udpDevServer(t *testing.T) *testutil.DevServer {
	t.Helper()
	echo := testutil.StartUDPEcho(t)
	return testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: udp+https://dns.internal:53
    to: udp://`+echo+`
    allowed_users: [dev@example.com]
  - from: udp+https://secret.internal:53
    to: udp://`+echo+`
    allowed_users: [admin@example.com]
`))
}

// udpEcho sends p from c and waits for the same bytes back.
func udpEcho(t *testing.T, c net.Conn, p []byte) {
	t.Helper()
	if _, err := c.Write(p); err != nil {
		t.Fatalf("sending %d bytes: %v", len(p), err)
	}
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("reading the echo of %d bytes: %v", len(p), err)
	}
	if !bytes.Equal(buf[:n], p) {
		t.Fatalf("echo of %d bytes: got %d bytes, not the ones sent", len(p), n)
	}
}

// TestE2EUDP: the real `pomerium-cli udp` carries datagrams of 1 to
// 1,400 bytes from two local peers (one tunnel each) to a loopback UDP
// echo through the dev server, over HTTP/2 and HTTP/1.1, signing in once;
// a route the policy refuses reports access denied and keeps the token.
func TestE2EUDP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := udpDevServer(t)
	sizes := []int{1, 2, 63, 64, 100, 512, 1000, 1200, 1400}
	for _, tc := range []struct {
		name  string
		extra []string
	}{{"http2", nil}, {"http1", []string{"--http1"}}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ds)
			e.useCurl()
			cmd, stderr, done := startBinary(t, e, e.args(append([]string{"udp", "udp+https://" + ds.Addr + "/dns.internal:53"}, tc.extra...)...)...)
			addr := testutil.WaitMatch(t, "udp stderr", stderr.String, listeningRE, done)[1]
			var total int
			for peer := range 2 {
				c, err := net.Dial("udp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for _, n := range sizes {
					udpEcho(t, c, bytes.Repeat([]byte{byte(n + peer)}, n))
					total += n
				}
			}
			if got := e.browserRuns(); got != 1 {
				t.Errorf("browser ran %d times for two peers; want 1", got)
			}
			testutil.WaitMatch(t, "udp stderr", stderr.String, regexp.MustCompile(`\[#2\] connected to dns\.internal:53`), done)
			_ = cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("udp did not exit within 1m of SIGINT")
			}
			// Each peer's tunnel reports what it carried when it closes.
			perPeer := 0
			for _, n := range sizes {
				perPeer += n
			}
			want := fmt.Sprintf("closed: sent %.1f KiB, received %.1f KiB", float64(perPeer)/1024, float64(perPeer)/1024)
			if got := strings.Count(stderr.String(), want); got != 2 {
				t.Errorf("%q lines: got %d; want 2 (one per peer)\n%s", want, got, stderr.String())
			}
		})
	}

	t.Run("policy refusal", func(t *testing.T) {
		e := newEnv(t, ds)
		e.useCurl()
		_, stderr, done := startBinary(t, e, e.args("udp", "udp+https://"+ds.Addr+"/secret.internal:53")...)
		addr := testutil.WaitMatch(t, "udp stderr", stderr.String, listeningRE, done)[1]
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		testutil.WaitMatch(t, "udp stderr", stderr.String, regexp.MustCompile(`access denied to secret\.internal:53.*\(403\)`), done)
		if len(e.tokenFiles()) == 0 {
			t.Errorf("no token cached after a 403; want the token kept")
		}
	})
}
