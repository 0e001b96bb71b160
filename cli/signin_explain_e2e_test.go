package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2EBrowserCmdFails: a --browser-cmd that fails, with no terminal on
// stdin, ends the sign-in at once naming the command (the real binary),
// instead of a silent wait for the login timeout.
func TestE2EBrowserCmdFails(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"routes list", []string{"routes", "list", ds.URL.String()}},
		{"login", []string{"login", ds.URL.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := e.runBin(append(tc.args, "--alternate-ca-path", e.ca, "--browser-cmd", "/bin/false", "--login-timeout", "1h")...)
			if code != 1 || !strings.Contains(stderr, `--browser-cmd "/bin/false" failed: exit status 1`) || !strings.Contains(stderr, "--no-browser") {
				t.Errorf("exit %d, stderr %q; want 1 naming the failing --browser-cmd with the --no-browser hint", code, stderr)
			}
			if strings.Contains(stderr, "no sign-in within") || out != "" {
				t.Errorf("stderr %q, stdout %q; want no wait for the timeout and nothing on stdout", stderr, out)
			}
			if !strings.Contains(stderr, "Waiting for sign-in in your browser (Ctrl-C to cancel, times out in 1h)") {
				t.Errorf("stderr %q; want the waiting line with the timeout", stderr)
			}
		})
	}
}

// TestE2ETCPSignInFirst: with --sign-in-first the sign-in happens before
// the listener is up, the listening line names destination and proxy, and
// the first connection carries bytes with no browser.
func TestE2ETCPSignInFirst(t *testing.T) {
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
		cli.Run(ctx, e.factory(strings.NewReader(""), &out, &errOut), e.args("tcp", echoDest(ds), "--listen", "127.0.0.1:0", "--sign-in-first"))
	}()
	m := testutil.WaitMatch(t, "tcp stderr", errOut.String, regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+): connections go to echo\.internal:7000 through `+regexp.QuoteMeta(ds.URL.String())+`\n`), done)
	if n := e.browserRuns(); n != 1 {
		t.Errorf("browser ran %d times before listening; want 1 (signed in first)", n)
	}
	if i, j := strings.Index(errOut.String(), "Waiting for sign-in"), strings.Index(errOut.String(), "Listening on"); i < 0 || i > j {
		t.Errorf("stderr %q; want the sign-in before the listening line", errOut.String())
	}
	msg := []byte("signed in before the client came")
	if got := roundTrip(t, m[1], msg); string(got) != string(msg) {
		t.Fatalf("echo = %q; want %q", got, msg)
	}
	if n := e.browserRuns(); n != 1 {
		t.Errorf("browser ran %d times; want 1", n)
	}
	cancel()
	<-done
}
