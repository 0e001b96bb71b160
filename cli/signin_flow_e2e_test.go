package cli_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// noBrowserURLRE is the sign-in URL as --no-browser prints it.
var noBrowserURLRE = regexp.MustCompile(`Open this URL to sign in:\n\n  (https://\S+)\n`)

// startCLI runs pomerium-cli in-process in the background; done closes
// when it returns, and *code holds its exit code then.
func startCLI(e *env, ctx context.Context, args ...string) (out, errOut *testutil.SyncBuffer, code *int, done chan struct{}) {
	out, errOut, code, done = &testutil.SyncBuffer{}, &testutil.SyncBuffer{}, new(int), make(chan struct{})
	go func() {
		defer close(done)
		*code = cli.Run(ctx, e.factory(strings.NewReader(""), out, errOut), args)
	}()
	return out, errOut, code, done
}

// follow is the user pasting the printed URL into a browser: a client
// with a cookie jar that trusts the dev CA and follows every redirect to
// the CLI's loopback callback.
func follow(t *testing.T, ds *testutil.DevServer, u string) string {
	t.Helper()
	resp, b, err := testutil.Browse(context.Background(), ds.CAPool, u)
	if err != nil {
		t.Fatalf("following the printed sign-in URL: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Hostname() != "127.0.0.1" || resp.Request.URL.Query().Get("pomerium_jwt") == "" {
		t.Fatalf("the sign-in ended at %s with %s; want 200 from the CLI's callback", resp.Request.URL.Redacted(), resp.Status)
	}
	return string(b)
}

// TestE2ENoBrowser: with --no-browser the sign-in URL is printed on
// stderr and nothing is opened (not even --browser-cmd); a user who opens
// the printed URL elsewhere completes the sign-in, and the callback
// answers with the "sign-in complete" page.
func TestE2ENoBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl() // --browser-cmd is given too: --no-browser wins
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, errOut, code, done := startCLI(e, ctx, e.args("auth", ds.URL.String(), "--no-browser")...)
	u := testutil.WaitMatch(t, "auth stderr", errOut.String, noBrowserURLRE, done)[1]
	page := follow(t, ds, u)
	if !strings.Contains(page, "Sign-in complete") {
		t.Errorf("callback page = %q; want it to say sign-in is complete", page)
	}
	<-done
	if *code != 0 || !jwtRE.MatchString(strings.TrimSpace(out.String())) {
		t.Fatalf("auth --no-browser: exit %d, stdout %q; want 0 and a JWT\nstderr: %s", *code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "http") {
		t.Errorf("stdout = %q; want only the token (the URL goes to stderr)", out.String())
	}
	if got := e.browserRuns(); got != 0 {
		t.Errorf("browser ran %d times with --no-browser; want 0", got)
	}
}

// TestE2ESignInEnds: a sign-in that is interrupted (Ctrl-C) exits 130
// with no Error: line, and one that outlives --login-timeout exits 1 with
// one line naming the flag; neither caches anything.
func TestE2ESignInEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))

	t.Run("ctrl-c", func(t *testing.T) {
		e := newEnv(t, ds)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out, errOut, code, done := startCLI(e, ctx, e.args("login", ds.URL.String(), "--no-browser")...)
		testutil.WaitMatch(t, "login stderr", errOut.String, noBrowserURLRE, done)
		cancel() // what Ctrl-C does to the context of cli.Main
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("login did not return within 1m of Ctrl-C")
		}
		if *code != cli.ExitInterrupt || !strings.HasSuffix(errOut.String(), "Interrupted\n") || strings.Contains(errOut.String(), "Error:") {
			t.Errorf("login after Ctrl-C: exit %d, stderr %q; want %d and Interrupted, no Error: line", *code, errOut.String(), cli.ExitInterrupt)
		}
		if out.String() != "" || len(e.tokenFiles()) != 0 {
			t.Errorf("stdout %q, cache files %v; want nothing", out.String(), e.tokenFiles())
		}
	})

	t.Run("login-timeout", func(t *testing.T) {
		e := newEnv(t, ds)
		code, out, stderr := e.run(e.args("routes", "list", ds.URL.String(), "--no-browser", "--login-timeout", "300ms")...)
		if code != cli.ExitError {
			t.Errorf("exit %d; want %d", code, cli.ExitError)
		}
		var errLines []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "Error: ") {
				errLines = append(errLines, l)
			}
		}
		if len(errLines) != 1 || !strings.Contains(errLines[0], "no sign-in within 300ms") || !strings.Contains(errLines[0], "--login-timeout") {
			t.Errorf("Error: lines = %q; want one naming the 300ms and --login-timeout\nstderr: %s", errLines, stderr)
		}
		if !noBrowserURLRE.MatchString(stderr) {
			t.Errorf("stderr = %q; want the sign-in URL printed before the wait", stderr)
		}
		if out != "" || len(e.tokenFiles()) != 0 {
			t.Errorf("stdout %q, cache files %v; want nothing", out, e.tokenFiles())
		}
	})
}
