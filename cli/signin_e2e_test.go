package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2EConcurrentSignIn: 50 connections through `tcp` at once before any
// token exists cause exactly one browser sign-in.
func TestE2EConcurrentSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	var out, errOut testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		cli.Run(ctx, e.factory(strings.NewReader(""), &out, &errOut), e.args("tcp", echoDest(ds)))
	}()
	addr := testutil.WaitMatch(t, "tcp stderr", errOut.String, listeningRE, done)[1]

	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := []byte(fmt.Sprintf("connection %d", i))
			if got := roundTrip(t, addr, msg); !bytes.Equal(got, msg) {
				t.Errorf("connection %d echoed %q; want %q", i, got, msg)
			}
		}()
	}
	wg.Wait()
	if got := e.browserRuns(); got != 1 {
		t.Errorf("browser ran %d times for %d concurrent connections; want 1", got, n)
	}
	cancel()
	<-done
}

// TestE2ERestartSignsInAgain: after the server restarts with new keys the
// cached token gets 401; the CLI signs in again once and the command works.
func TestE2ERestartSignsInAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	url := ds.URL.String()
	if code, _, stderr := e.run(e.args("routes", "list", url)...); code != 0 {
		t.Fatalf("routes list: exit %d\n%s", code, stderr)
	}
	_, before, _ := e.run(e.args("auth", url)...)
	ds.Restart(t)

	code, out, stderr := e.run(e.args("routes", "list", url)...)
	if code != 0 {
		t.Fatalf("routes list after restart: exit %d\n%s", code, stderr)
	}
	assertTableHasEcho(t, out, ds)
	if got := e.browserRuns(); got != 2 {
		t.Errorf("browser ran %d times; want 2 (one new sign-in after the restart)", got)
	}
	_, after, _ := e.run(e.args("auth", url)...)
	if strings.TrimSpace(after) == "" || after == before {
		t.Errorf("token after restart = %q; want a new one (before: %q)", after, before)
	}
}

// TestE2EServiceAccount: a token given by --service-account,
// --service-account-file or POMERIUM_SERVICE_ACCOUNT is used as is; no
// browser opens.
func TestE2EServiceAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	url := ds.URL.String()
	signer := newEnv(t, ds)
	signer.useCurl()
	code, out, _ := signer.run(signer.args("auth", url)...)
	tok := strings.TrimSpace(out)
	if code != 0 || !jwtRE.MatchString(tok) {
		t.Fatalf("auth: exit %d, %q; want a JWT", code, out)
	}
	tests := []struct {
		name  string
		flags []string
		env   map[string]string
	}{
		{name: "flag", flags: []string{"--service-account", tok}},
		{name: "file", flags: []string{"--service-account-file", writeTemp(t, tok+"\n")}},
		{name: "env", env: map[string]string{"POMERIUM_SERVICE_ACCOUNT": tok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, ds)
			e.useCurl()
			e.extraEnv = tt.env
			code, out, stderr := e.run(e.args(append([]string{"routes", "list", url}, tt.flags...)...)...)
			if code != 0 {
				t.Fatalf("routes list: exit %d\n%s", code, stderr)
			}
			assertTableHasEcho(t, out, ds)
			if got := e.browserRuns(); got != 0 {
				t.Errorf("browser ran %d times; want 0 with a service account", got)
			}
		})
	}
}

func writeTemp(t *testing.T, s string) string {
	t.Helper()
	p := t.TempDir() + "/sa.jwt"
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
