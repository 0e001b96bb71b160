package server_test

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestBinaryDevMode runs bin/pomerium-server --dev twice on one dev dir:
// the banner, the CA reused, and a clean exit 0 on SIGTERM and on SIGINT.
func TestBinaryDevMode(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-server")
	dir := t.TempDir()
	var firstCA []byte
	for run := 0; run < 2; run++ {
		cmd := exec.Command(bin, "--dev", "--dev-dir", dir, "--address", "127.0.0.1:0", "--dev-user", "ops@example.com:ops")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		lines := make(chan string, 100)
		var all bytes.Buffer
		go func() {
			sc := bufio.NewScanner(io.TeeReader(stderr, &all))
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				default:
				}
			}
			close(lines)
		}()
		var addr string
		re := regexp.MustCompile(`listening on https://(127\.0\.0\.1:\d+)`)
		timeout := time.After(60 * time.Second)
		var banner []string
		for addr == "" || len(banner) < 4 {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("server exited early:\n%s", strings.Join(banner, "\n"))
				}
				banner = append(banner, l)
				if m := re.FindStringSubmatch(l); m != nil {
					addr = m[1]
				}
			case <-timeout:
				t.Fatalf("no banner within 60s:\n%s", strings.Join(banner, "\n"))
			}
		}
		text := strings.Join(banner, "\n")
		caFile := filepath.Join(dir, "ca.pem")
		for _, want := range []string{caFile, "https://" + addr + "/.pomerium/routes", "pomerium-cli routes list https://" + addr + " --alternate-ca-path " + caFile} {
			if !strings.Contains(text, want) {
				t.Errorf("banner lacks %q:\n%s", want, text)
			}
		}
		ca, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			firstCA = ca
		} else if !bytes.Equal(ca, firstCA) {
			t.Error("second start made a new CA; want the one in --dev-dir reused")
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: addr}, Addr: addr, CAPool: pool}
		c := apiClient(t, d)
		deadline := time.Now().Add(60 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			resp, err := c.Get(d.URL.String() + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("healthz never 200: %v", err)
			}
			<-tick.C
		}
		// Both signals of a graceful stop: SIGTERM (service managers), then SIGINT (Ctrl-C).
		sig := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}[run]
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after %v: got %v; want 0\n%s", sig, err, all.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("no exit within 60s of %v", sig)
		}
	}
}
