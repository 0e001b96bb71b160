package routes

import (
	"context"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/cli/tui"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/server/session"
)

// TestPickHostFormRoute: a host-form route picked from a portal dials
// the proxy the portal came from (not db.internal:443, which does not
// exist), over tcp and udp; --pomerium-url overrides it.
func TestPickHostFormRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	udpEcho := testutil.StartUDPEcho(t)
	ds := testutil.StartDevServer(t, testutil.WithConfig(`
routes:
  - from: tcp+https://db.internal:5432
    to: tcp://`+l.Addr().String()+`
    allow_any_authenticated_user: true
  - from: udp+https://dns.internal:53
    to: udp://`+udpEcho+`
    allow_any_authenticated_user: true
`))
	tok, err := ds.Server().IssueToken(session.Claims{Subject: "dev", Email: "dev@example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	store := authflow.NewCache(authflow.CacheOptions{Dir: filepath.Join(t.TempDir(), "cache"), NoKeyring: true, Stderr: io.Discard})
	if err := store.Save(authflow.HostKey(ds.URL), tok); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := cmdutil.TestIO()
	f := &cmdutil.Factory{IO: ios, Tokens: store, ConfigDir: t.TempDir()}
	f.Opts.TLS.CAFile = ds.CAFile
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, tc := range []struct {
		name string
		st   *tunnelStarter
	}{
		{"portal", &tunnelStarter{f: f, portal: ds.URL}},
		// A portal that is not the proxy: --pomerium-url decides.
		{"--pomerium-url", &tunnelStarter{f: f, portal: &url.URL{Scheme: "https", Host: "127.0.0.1:1"}, pomeriumURL: ds.URL.String()}},
	} {
		t.Run(tc.name+" tcp", func(t *testing.T) {
			it := tui.RouteItem(portalclient.Route{ID: "1", Name: "db", Type: "tcp", From: "tcp+https://db.internal:5432"})
			ln, err := tc.st.Start(ctx, it, "127.0.0.1:0", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			c, err := net.DialTimeout("tcp", ln.Addr().String(), 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			testutil.EchoCheck(t, c, 4096)
		})
		t.Run(tc.name+" udp", func(t *testing.T) {
			it := tui.RouteItem(portalclient.Route{ID: "2", Name: "dns", Type: "udp", From: "udp+https://dns.internal:53"})
			ln, err := tc.st.Start(ctx, it, "127.0.0.1:0", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			c, err := net.Dial("udp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16)
			n, err := c.Read(buf)
			if err != nil || string(buf[:n]) != "ping" {
				t.Fatalf("udp echo through the picked route: %q, %v; want ping", buf[:n], err)
			}
		})
	}
}

// TestPickServesProcs: the picker serves the tunnels it opens, so it runs
// the P-count controller as the tunnel commands do, with its context,
// and stops it when it returns.
func TestPickServesProcs(t *testing.T) {
	ios, _, _, _ := cmdutil.TestIO()
	var started context.Context
	stopped := 0
	f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), CacheDir: t.TempDir(),
		AdaptProcs: func(ctx context.Context) func() {
			started = ctx
			return func() { stopped++ }
		}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the picker ends at once: only the controller's start and stop matter here
	_ = pickRun(ctx, f, "https://127.0.0.1:1", "", "")
	if started != ctx || stopped != 1 {
		t.Fatalf("controller started with the picker's context: %v, stopped %d times; want true, 1", started == ctx, stopped)
	}
}
