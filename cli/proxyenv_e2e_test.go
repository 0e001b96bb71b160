package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2EHTTPSProxy runs the real binary with HTTPS_PROXY set and the dev
// server named verify.localhost (a name only the forward proxy can reach,
// and one the dev provider accepts a callback for): the login API call of
// the sign-in and the tunnel's dial both go through the forward proxy.
func TestE2EHTTPSProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	bin := testutil.BuildBinary(t, "pomerium-cli")
	fp := testutil.StartForwardProxy(t, nil)
	_, port, _ := net.SplitHostPort(ds.Addr)
	named := "verify.localhost:" + port
	e := newEnv(t, ds)
	// The "browser" hands the URL to the test, which plays the user.
	urlFile := filepath.Join(e.dir, "signin-url")
	e.browser = e.script("url-browser", `printf '%s' "${@: -1}" > '`+urlFile+`.tmp' && mv '`+urlFile+`.tmp' '`+urlFile+`'`+"\n")
	e.extraEnv = map[string]string{"HTTPS_PROXY": fp.URL.String(), "NO_PROXY": ""}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, e.args("auth", "https://"+named, "--login-timeout", "2m")...)
	cmd.Env = e.binEnv()
	var stdout, stderr testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var werr error
	go func() { werr = cmd.Wait(); close(done) }()
	var signInURL []byte
	deadline := time.Now().Add(2 * time.Minute)
	for len(signInURL) == 0 {
		select {
		case <-done:
			t.Fatalf("auth ended before opening a browser: %v\nstderr: %s", werr, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sign-in URL within 2m\nstderr: %s", stderr.String())
		}
		signInURL, _ = os.ReadFile(urlFile)
		time.Sleep(10 * time.Millisecond) // polling the file the browser script writes
	}
	if got := fp.Count(named); got < 1 {
		t.Fatalf("forward proxy CONNECTs to %s before the browser opened: got %d; want the login API call through it", named, got)
	}
	// The user's browser: *.localhost is 127.0.0.1 to it.
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{}
	bc := &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ds.CAPool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if h, p, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(h, ".localhost") {
				addr = net.JoinHostPort("127.0.0.1", p)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}}
	resp, err := bc.Get(string(signInURL))
	if err != nil {
		t.Fatalf("following the sign-in URL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Hostname() != "127.0.0.1" {
		t.Errorf("the sign-in ended at %s://%s%s with %s; want 200 from the CLI's callback", resp.Request.URL.Scheme, resp.Request.URL.Host, resp.Request.URL.Path, resp.Status)
	}
	<-done
	tok := strings.TrimSpace(stdout.String())
	if werr != nil || !jwtRE.MatchString(tok) {
		t.Fatalf("auth through HTTPS_PROXY: %v, stdout %q; want exit 0 and a JWT\nstderr: %s", werr, stdout.String(), stderr.String())
	}

	// The tunnel dials through the forward proxy too (token from the cache).
	before := fp.Count(named)
	cmd = exec.CommandContext(ctx, bin, e.args("tcp", "tcp+https://"+named+"/echo.internal:7000", "--listen", "-")...)
	cmd.Env = e.binEnv()
	cmd.Stdin = strings.NewReader("through the forward proxy")
	var tout, terr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &tout, &terr
	if err := cmd.Run(); err != nil || tout.String() != "through the forward proxy" {
		t.Fatalf("tcp through HTTPS_PROXY: %v, stdout %q; want the echo\nstderr: %s", err, tout.String(), terr.String())
	}
	if got := fp.Count(named) - before; got < 1 {
		t.Errorf("forward proxy CONNECTs to %s for the tunnel: got %d; want at least 1", named, got)
	}
}
