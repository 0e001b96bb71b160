package cli_test

import (
	"context"
	"encoding/base64"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2ETCP64MiB: `pomerium-cli tcp` to the dev server's echo route
// carries 64 MiB each way, both directions at once, over HTTP/2 and over
// HTTP/1.1 (--http1); the SHA-256 of what comes back equals what was sent
// and the closed line counts every byte.
func TestE2ETCP64MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const size = 64 << 20
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	for _, tc := range []struct {
		name  string
		extra []string
	}{{"http2", nil}, {"http1", []string{"--http1"}}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ds)
			e.useCurl()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, errOut, code, done := startCLI(e, ctx, e.args(append([]string{"tcp", echoDest(ds)}, tc.extra...)...)...)
			addr := testutil.WaitMatch(t, "tcp stderr", errOut.String, listeningRE, done)[1]

			c, err := net.DialTimeout("tcp", addr, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			testutil.EchoCheck(t, c, size)
			testutil.WaitMatch(t, "tcp stderr", errOut.String, regexp.MustCompile(`closed: sent 64 MiB, received 64 MiB`), done)
			cancel()
			<-done
			if *code != cli.ExitInterrupt {
				t.Errorf("tcp after Ctrl-C: exit %d; want %d", *code, cli.ExitInterrupt)
			}
		})
	}
}

// TestE2ETLSFlags: --ca-cert (PEM, and base64 of PEM) and
// --disable-tls-verification each reach the dev server for the sign-in,
// the routes list and a tunnel (stdin/stdout), without --alternate-ca-path.
func TestE2ETLSFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	pemBytes, err := os.ReadFile(ds.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"ca-cert PEM", []string{"--ca-cert", string(pemBytes)}},
		{"ca-cert base64", []string{"--ca-cert", base64.StdEncoding.EncodeToString(pemBytes)}},
		{"disable-tls-verification", []string{"--disable-tls-verification"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ds)
			e.useCurl()
			args := func(a ...string) []string { return append(append(a, "--browser-cmd", e.browser), tc.flags...) }
			code, out, stderr := e.run(args("routes", "list", ds.URL.String())...)
			if code != 0 {
				t.Fatalf("routes list: exit %d\n%s", code, stderr)
			}
			assertTableHasEcho(t, out, ds)

			var tout, terr testutil.SyncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			code = cli.Run(ctx, e.factory(strings.NewReader("over stdio"), &tout, &terr), args("tcp", echoDest(ds), "--listen", "-"))
			if code != 0 || tout.String() != "over stdio" {
				t.Fatalf("tcp --listen -: exit %d, stdout %q; want 0 and the echo\nstderr: %s", code, tout.String(), terr.String())
			}
			if got := e.browserRuns(); got != 1 {
				t.Errorf("browser ran %d times; want 1 (the tunnel uses the cached token)", got)
			}
		})
	}
}
