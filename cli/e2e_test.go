package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
)

var (
	jwtRE       = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
	listeningRE = regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+)`)
)

func echoDest(ds *testutil.DevServer) string { return "tcp+https://" + ds.Addr + "/echo.internal:7000" }

// TestE2ERoutesList signs in through a real browser (headless Chromium,
// and curl as a plain HTTP client), lists the routes, and checks that the
// second run takes the token from the 0600 file cache without a browser.
func TestE2ERoutesList(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, browser := range []string{"chromium", "curl"} {
		t.Run(browser, func(t *testing.T) {
			ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
			e := newEnv(t, ds)
			if browser == "chromium" {
				e.useChromium()
			} else {
				e.useCurl()
			}
			url := ds.URL.String()

			code, out, stderr := e.run(e.args("routes", "list", url)...)
			if code != 0 {
				t.Fatalf("routes list: exit %d; want 0\n%s", code, stderr)
			}
			assertTableHasEcho(t, out, ds)
			if got := e.browserRuns(); got != 1 {
				t.Errorf("browser ran %d times for the first routes list; want 1", got)
			}
			if !strings.Contains(stderr, "/.pomerium/") && !strings.Contains(stderr, "http") {
				t.Errorf("stderr = %q; want the sign-in URL printed", stderr)
			}

			// Second run: no URL (remembered), token from the cache.
			code, out, stderr = e.run(e.args("routes", "list")...)
			if code != 0 {
				t.Fatalf("second routes list: exit %d\n%s", code, stderr)
			}
			assertTableHasEcho(t, out, ds)
			if got := e.browserRuns(); got != 1 {
				t.Errorf("browser ran %d times after the second routes list; want 1 (token from cache)", got)
			}

			files := e.tokenFiles()
			if len(files) == 0 {
				t.Fatalf("no token file under %s; want the 0600 file store", e.cache)
			}
			for p, mode := range files {
				if mode != 0o600 {
					t.Errorf("%s mode = %v; want 0600", p, mode)
				}
			}

			// --output json parses, field for field.
			code, out, _ = e.run(e.args("routes", "list", "-o", "json")...)
			if code != 0 {
				t.Fatalf("routes list -o json: exit %d", code)
			}
			var routes []map[string]any
			if err := json.Unmarshal([]byte(out), &routes); err != nil {
				t.Fatalf("routes list -o json does not parse: %v\n%s", err, out)
			}
			var echo map[string]any
			for _, r := range routes {
				if r["name"] == "echo" {
					echo = r
				}
			}
			if echo == nil || echo["type"] != "tcp" || echo["from"] != echoDest(ds) ||
				echo["connect_command"] != "pomerium-cli tcp "+echoDest(ds) || echo["id"] == "" {
				t.Errorf("echo route in json = %v; want type tcp, from %s and its connect command", echo, echoDest(ds))
			}

			// auth prints the cached JWT on stdout, nothing else.
			code, out, _ = e.run(e.args("auth", url)...)
			tok := strings.TrimSpace(out)
			if code != 0 || !jwtRE.MatchString(tok) {
				t.Fatalf("auth: exit %d, stdout %q; want 0 and a JWT", code, out)
			}
			if !e.cacheHolds(tok) {
				t.Errorf("the token auth printed is not in the cache file")
			}
			if got := e.browserRuns(); got != 1 {
				t.Errorf("browser ran %d times after auth; want 1 (cached)", got)
			}

			// logout removes it; the next call signs in again.
			code, _, stderr = e.run(e.args("logout", url)...)
			if code != 0 || !strings.Contains(stderr, "Signed out of "+ds.Addr) {
				t.Fatalf("logout: exit %d, stderr %q; want 0 and Signed out of %s", code, stderr, ds.Addr)
			}
			if e.cacheHolds(tok) {
				t.Errorf("token still in the cache after logout")
			}
			code, _, stderr = e.run(e.args("login", url)...)
			if code != 0 || !strings.Contains(stderr, "Signed in to "+ds.Addr) {
				t.Fatalf("login: exit %d, stderr %q; want 0 and Signed in to %s", code, stderr, ds.Addr)
			}
			if got := e.browserRuns(); got != 2 {
				t.Errorf("browser ran %d times after logout and login; want 2", got)
			}
			_, out, _ = e.run(e.args("auth", url)...)
			tok2 := strings.TrimSpace(out)
			if !jwtRE.MatchString(tok2) || !e.cacheHolds(tok2) {
				t.Fatalf("auth after login printed %q; want a cached JWT", out)
			}
			code, _, _ = e.run(e.args("logout", "--all")...)
			if code != 0 || e.cacheHolds(tok2) {
				t.Errorf("logout --all: exit %d, token still cached %v; want 0 and no token", code, e.cacheHolds(tok2))
			}
		})
	}
}

// assertTableHasEcho checks the echo route in `routes list` output: the
// table a terminal gets, or the block format printed when stdout is not
// a terminal (as in these tests).
func assertTableHasEcho(t *testing.T, out string, ds *testutil.DevServer) {
	t.Helper()
	if strings.HasPrefix(out, "Route ") {
		for _, block := range strings.Split(strings.TrimSpace(out), "\n\n") {
			if !strings.HasPrefix(block, "Route echo\n") {
				continue
			}
			want := "type: tcp\nfrom: " + echoDest(ds) + "\n"
			if !strings.Contains(block, want) || !strings.Contains(block, "\nconnect_command: pomerium-cli tcp "+echoDest(ds)) {
				t.Errorf("echo block = %q; want type tcp, from %s and its connect command", block, echoDest(ds))
			}
			return
		}
		t.Fatalf("routes list has no echo block:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME TYPE FROM CONNECT COMMAND" {
		t.Fatalf("routes table = %q; want a header and rows", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "echo" {
			if f[1] != "tcp" || f[2] != echoDest(ds) {
				t.Errorf("echo row = %q; want tcp %s", l, echoDest(ds))
			}
			return
		}
	}
	t.Errorf("routes table has no echo row:\n%s", out)
}

// TestE2ETCP carries bytes to the echo route through a local listener
// (HTTP/2 and HTTP/1.1) and through stdin/stdout with the real binary.
func TestE2ETCP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	for _, tc := range []struct {
		name  string
		extra []string
	}{{"http2", nil}, {"http1", []string{"--http1"}}} {
		t.Run("listen/"+tc.name, func(t *testing.T) {
			e := newEnv(t, ds)
			e.useCurl()
			var out, errOut testutil.SyncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			var code int
			go func() {
				defer close(done)
				args := e.args(append([]string{"tcp", echoDest(ds), "--listen", "127.0.0.1:0"}, tc.extra...)...)
				code = cli.Run(ctx, e.factory(strings.NewReader(""), &out, &errOut), args)
			}()
			addr := testutil.WaitMatch(t, "tcp stderr", errOut.String, listeningRE, done)[1]
			for i := range 3 {
				msg := []byte(strings.Repeat("porthole ", 1000) + string(rune('a'+i)))
				if got := roundTrip(t, addr, msg); !bytes.Equal(got, msg) {
					t.Fatalf("connection %d echoed %d bytes; want the %d sent", i, len(got), len(msg))
				}
			}
			if got := e.browserRuns(); got != 1 {
				t.Errorf("browser ran %d times for 3 connections; want 1", got)
			}
			testutil.WaitMatch(t, "tcp stderr", errOut.String, regexp.MustCompile(`closed: sent 8\.8 KiB, received 8\.8 KiB`), done)
			cancel()
			<-done
			if code != cli.ExitInterrupt {
				t.Errorf("tcp after Ctrl-C: exit %d; want %d", code, cli.ExitInterrupt)
			}
			if out.String() != "" {
				t.Errorf("stdout = %q; want nothing (events go to stderr)", out.String())
			}
		})
	}

	t.Run("stdio/binary", func(t *testing.T) {
		bin := testutil.BuildBinary(t, "pomerium-cli")
		e := newEnv(t, ds)
		e.useCurl()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, e.args("tcp", echoDest(ds), "--listen", "-")...)
		cmd.Env = e.binEnv()
		var stderr testutil.SyncBuffer
		cmd.Stderr = &stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		msg := []byte("hello over stdin\n")
		if _, err := stdin.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(stdout, got); err != nil {
			t.Fatalf("reading the echo from stdout: %v\nstderr: %s", err, stderr.String())
		}
		if !bytes.Equal(got, msg) {
			t.Errorf("stdout = %q; want %q", got, msg)
		}
		stdin.Close()
		rest, _ := io.ReadAll(stdout)
		err := cmd.Wait()
		if err != nil || len(rest) != 0 {
			t.Errorf("after stdin EOF: wait = %v, extra stdout %q; want exit 0 and nothing more\nstderr: %s", err, rest, stderr.String())
		}
	})

	t.Run("sigint/binary", func(t *testing.T) {
		bin := testutil.BuildBinary(t, "pomerium-cli")
		e := newEnv(t, ds)
		e.useCurl()
		cmd := exec.Command(bin, e.args("tcp", echoDest(ds))...)
		cmd.Env = e.binEnv()
		var stderr testutil.SyncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var werr error
		go func() { werr = cmd.Wait(); close(done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
		addr := testutil.WaitMatch(t, "binary stderr", stderr.String, listeningRE, done)[1]
		if got := roundTrip(t, addr, []byte("ping")); string(got) != "ping" {
			t.Errorf("echo through the binary = %q; want ping", got)
		}
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("tcp did not exit within 1m of SIGINT")
		}
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Errorf("exit code after SIGINT = %d (%v); want 130", code, werr)
		}
	})
}

func roundTrip(t *testing.T, addr string, msg []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatalf("dialing the tunnel at %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	errc := make(chan error, 1)
	go func() { _, err := c.Write(msg); errc <- err }()
	got := make([]byte, len(msg))
	n, err := io.ReadFull(c, got)
	if err != nil {
		t.Errorf("reading the echo: %v (got %d of %d bytes)", err, n, len(msg))
	}
	if err := <-errc; err != nil {
		t.Errorf("writing to the tunnel: %v", err)
	}
	return got[:n]
}

// TestE2EErrors: each failure is one clear line on stderr and exit 1.
func TestE2EErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("guest@example.com"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens here now

	tests := []struct {
		name     string
		args     []string
		noCA     bool
		want     []string // substrings of stderr, case-insensitive
		wantCode int
	}{
		{name: "admin-echo as guest", args: []string{"tcp", "tcp+https://" + ds.Addr + "/admin-echo.internal:7001", "--listen", "-"},
			want: []string{"access denied"}, wantCode: 1},
		{name: "bad destination", args: []string{"tcp", "not a destination", "--listen", "-"},
			want: []string{"error: ", "host:port"}, wantCode: 1},
		{name: "wrong CA routes list", args: []string{"routes", "list", ds.URL.String()}, noCA: true,
			want: []string{"certificate", "hint: if the proxy uses a private ca, pass --alternate-ca-path file"}, wantCode: 1},
		{name: "wrong CA tcp", args: []string{"tcp", echoDest(ds), "--listen", "-"}, noCA: true,
			want: []string{"certificate"}, wantCode: 1},
		{name: "unreachable proxy routes list", args: []string{"routes", "list", "https://" + closed},
			want: []string{"connection refused", "hint: is the proxy running at " + closed + "?"}, wantCode: 1},
		{name: "unreachable proxy tcp", args: []string{"tcp", "tcp+https://" + closed + "/echo.internal:7000", "--listen", "-"},
			want: []string{"connection refused"}, wantCode: 1},
		{name: "unreachable proxy verbose", args: []string{"tcp", "tcp+https://" + closed + "/echo.internal:7000", "--listen", "-", "--verbose"},
			want: []string{"connection refused", "details:", "*net.operror", "via https://" + closed}, wantCode: 1},
		{name: "missing CA file", args: []string{"routes", "list", ds.URL.String(), "--alternate-ca-path", "/nonexistent/ca.pem"}, noCA: true,
			want: []string{"/nonexistent/ca.pem"}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, ds)
			e.useCurl()
			args := tt.args
			if !tt.noCA {
				args = e.args(args...)
			} else {
				args = append(args, "--browser-cmd", e.browser)
			}
			code, out, stderr := e.run(args...)
			if code != tt.wantCode {
				t.Errorf("exit %d; want %d\nstderr: %s", code, tt.wantCode, stderr)
			}
			low := strings.ToLower(stderr)
			for _, w := range tt.want {
				if !strings.Contains(low, w) {
					t.Errorf("stderr = %q; want it to contain %q", stderr, w)
				}
			}
			var errLines []string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "Error: ") {
					errLines = append(errLines, l)
				}
			}
			if len(errLines) != 1 {
				t.Errorf("stderr has %d Error: lines; want 1:\n%s", len(errLines), stderr)
			}
			if n := strings.Count(low, "connection refused"); n > 1 && !strings.Contains(tt.name, "verbose") {
				t.Errorf("the error is printed %d times; want once:\n%s", n, stderr)
			}
			if out != "" {
				t.Errorf("stdout = %q; want nothing on failure", out)
			}
		})
	}
}

// TestE2EBinaryVersion runs the real binary.
func TestE2EBinaryVersion(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("pomerium-cli version: %v", err)
	}
	if !regexp.MustCompile(`^pomerium-cli dev \(commit \S+, go1\.\d+`).Match(out) {
		t.Errorf("version output = %q; want pomerium-cli dev (commit ..., go1.x ...)", out)
	}
	cmd := exec.Command(bin, "tcp")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), "Error: missing destination") {
		t.Errorf("pomerium-cli tcp: exit %d (%v), stderr %q; want 2 and a missing destination error", code, err, stderr.String())
	}
}
