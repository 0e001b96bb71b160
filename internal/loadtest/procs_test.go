package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// devServer is a pomerium-server --dev process on a fixed address, so
// that it comes back where the client expects it after a kill.
type devServer struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	log            *testutil.SyncBuffer
	done           chan struct{}
}

func (s *devServer) start(t *testing.T) {
	t.Helper()
	s.log = &testutil.SyncBuffer{}
	s.cmd = exec.Command(s.bin, "--dev", "--dev-dir", s.dir, "--address", s.addr, "--dev-auto-login", "dev@example.com")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting pomerium-server: %v", err)
	}
	s.done = make(chan struct{})
	cmd, done := s.cmd, s.done
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	s.waitHealthy(t)
}

// kill ends the server the hard way (SIGKILL): no close_notify, no
// GOAWAY, the kernel resets its sockets.
func (s *devServer) kill(t *testing.T) {
	t.Helper()
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("pomerium-server did not die within 1m of SIGKILL")
	}
}

func (s *devServer) caFile() string { return filepath.Join(s.dir, "ca.pem") }

func (s *devServer) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := s.healthz(); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("pomerium-server not healthy within 2m: %v\n%s", err, s.log.String())
		}
		select {
		case <-s.done:
			t.Fatalf("pomerium-server exited: %s", s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *devServer) healthz() error {
	ca, err := os.ReadFile(s.caFile())
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+s.addr+"/healthz", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{resp.StatusCode}
	}
	return nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }

// client is one pomerium-cli tcp process listening on a local port.
type client struct {
	addr    string // where the tunnel listens
	runs    string // file the browser command appends a line to per run
	stderr  *testutil.SyncBuffer
	stopped chan struct{}
}

var listeningRE = regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+)`)

// startClient runs pomerium-cli tcp for the dev echo route with a
// browser command that signs in with curl (the server signs dev@ in
// without a page) and counts its runs.
func startClient(t *testing.T, s *devServer) *client {
	t.Helper()
	bin := testutil.BuildBinary(t, "pomerium-cli")
	curl := testutil.Require(t, "curl")
	dir := t.TempDir()
	c := &client{runs: filepath.Join(dir, "browser-runs"), stderr: &testutil.SyncBuffer{}, stopped: make(chan struct{})}
	browser := filepath.Join(dir, "browser")
	script := "#!/bin/sh\nfor url; do :; done\necho run >> " + shq(c.runs) + "\nexec " + shq(curl) +
		" -sS -L --max-time 120 --cacert " + shq(s.caFile()) + " -c " + shq(dir+"/jar") + " -b " + shq(dir+"/jar") + " -o /dev/null \"$url\"\n"
	if err := os.WriteFile(browser, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "tcp", "tcp+https://"+s.addr+"/echo.internal:7000", "--listen", "127.0.0.1:0",
		"--alternate-ca-path", s.caFile(), "--browser-cmd", browser)
	cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config", "XDG_CACHE_HOME=" + dir + "/cache",
		"POMERIUM_CLI_NO_KEYRING=1", "POMERIUM_CLI_CONNECTIONS=" + dir + "/connections.json", "PATH=" + os.Getenv("PATH")}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting pomerium-cli: %v", err)
	}
	go func() { cmd.Wait(); close(c.stopped) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.stopped })
	c.addr = testutil.WaitMatch(t, "pomerium-cli stderr", c.stderr.String, listeningRE, c.stopped)[1]
	return c
}

// browserRuns is how many times the client opened the sign-in URL.
func (c *client) browserRuns() int {
	b, _ := os.ReadFile(c.runs)
	return strings.Count(string(b), "run\n")
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
