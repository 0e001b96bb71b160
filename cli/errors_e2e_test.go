package cli_test

import (
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// errorLines are stderr's Error: and Hint: lines.
func errorLines(stderr string) (errs, hints []string) {
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(l, "Error: "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "Hint: "):
			hints = append(hints, l)
		}
	}
	return errs, hints
}

// TestE2EErrorHints: failures end in one Error: line and one Hint: line
// saying what to do, with the real binary (issue 17 item 7).
func TestE2EErrorHints(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: tcp+https://oncall.internal:7000
    to: tcp://127.0.0.1:1
    policy:
      - allow:
          or:
            - email:
                is: oncall@example.com
        explanation: only the on-call engineer may open this
        remediation: "ask in #oncall for access"
`))
	e := newEnv(t, ds)
	e.useCurl()
	// nosuch-.invalid is no valid DNS name (a dash ends a label), so Go's
	// own resolver fails it before sending any query: the test resolves
	// nothing (netdns=go keeps the C library's resolver out of it).
	e.extraEnv = map[string]string{"GODEBUG": "netdns=go"}
	server := "https://" + ds.Addr
	tests := []struct {
		name      string
		args      []string
		wantError string
		wantHint  string
	}{
		{"DNS failure", []string{"routes", "list", "https://nosuch-.invalid"},
			"Error: cannot resolve host nosuch-.invalid: no such host",
			"Hint: check the host name in the URL (a typo?); if it is right, check your DNS or VPN"},
		{"no such route", e.args("tcp", "tcp+https://"+ds.Addr+"/nosuch.internal:7000", "--listen", "-"),
			"Error: tunnel to nosuch.internal:7000: no route for nosuch.internal:7000 on " + server + " (404)",
			"Hint: see the routes you may use: pomerium-cli routes list " + server},
		{"denied, with the policy's words", e.args("tcp", "tcp+https://"+ds.Addr+"/oncall.internal:7000", "--listen", "-"),
			"Error: tunnel to oncall.internal:7000: access denied to oncall.internal:7000 by " + server + ": the proxy's policy does not allow you (403)",
			"Hint: the policy says: only the on-call engineer may open this; ask in #oncall for access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := e.runBin(tt.args...)
			errs, hints := errorLines(stderr)
			if code != 1 || len(errs) != 1 || len(hints) != 1 || errs[0] != tt.wantError || hints[0] != tt.wantHint {
				t.Errorf("exit %d, stderr %q; want 1, one line %q and one line %q", code, stderr, tt.wantError, tt.wantHint)
			}
			if out != "" {
				t.Errorf("stdout %q; want nothing on failure", out)
			}
		})
	}

	// A proxy that accepts and then says nothing: the stall timeout ends
	// the wait, and the hint names the knobs.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // kept open, never answered
	defer func() {
		silent.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	e.extraEnv["POMERIUM_CLI_HTTP_STALL_TIMEOUT"] = "2s"
	code, _, errOut := e.runBin("routes", "list", "https://"+silent.Addr().String())
	delete(e.extraEnv, "POMERIUM_CLI_HTTP_STALL_TIMEOUT")
	if errs, hints := errorLines(errOut); code != 1 || len(errs) != 1 || len(hints) != 1 ||
		!strings.Contains(hints[0], "the proxy did not answer in time") || !strings.Contains(hints[0], "POMERIUM_CLI_HTTP_STALL_TIMEOUT") {
		t.Errorf("silent proxy: exit %d, stderr %q; want 1 with the timeout hint", code, errOut)
	}

	// A listener stays up; each connection that fails says why and what
	// to do on its own line.
	_, stderr, done := startBinary(t, e, e.args("tcp", "tcp+https://"+ds.Addr+"/nosuch.internal:7000", "--listen", "127.0.0.1:0")...)
	m := testutil.WaitMatch(t, "tcp stderr", stderr.String, regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+)`), done)
	c, err := net.DialTimeout("tcp", m[1], 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	_, _ = c.Write([]byte("x"))
	if got, _ := io.ReadAll(c); len(got) != 0 {
		t.Errorf("a tunnel with no route carried %q; want nothing", got)
	}
	c.Close()
	testutil.WaitMatch(t, "tcp stderr", stderr.String, regexp.MustCompile(
		regexp.QuoteMeta("error: no route for nosuch.internal:7000 on "+server+" (404); hint: see the routes you may use: pomerium-cli routes list "+server)), done)
}
