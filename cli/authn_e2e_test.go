package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/servercmd"
	"github.com/porthole-dev/porthole/server/store"
)

var deviceURLRE = regexp.MustCompile(`\(or open (https://\S+/\.pomerium/device\?user_code=[A-Z]{4}-[A-Z]{4})\)`)

// deviceBrowser is the scripted browser on "another device": a cookie
// jar, the dev CA, redirects followed.
func deviceBrowser(t *testing.T, ds *testutil.DevServer) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ds.CAPool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute}
}

func readAll(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestE2EDeviceLogin: `pomerium-cli login --device URL` prints a URL and
// a code on stderr and opens nothing; a browser elsewhere signs in
// through the provider and confirms the code; the CLI gets its token
// and later commands use it.
func TestE2EDeviceLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.browser = e.script("no-browser", `printf 'x\n' >> '`+e.count+`'; exit 1`)
	var out, errOut testutil.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, e.factory(strings.NewReader(""), &out, &errOut), e.args("login", "--device", ds.URL.String()))
	}()
	verify := testutil.WaitMatch(t, "device URL on stderr", errOut.String, deviceURLRE, nil)[1]
	code := verify[len(verify)-9:]
	if !strings.Contains(errOut.String(), "enter the code:  "+code) {
		t.Errorf("stderr lacks the code %s: %q", code, errOut.String())
	}

	b := deviceBrowser(t, ds)
	resp, err := b.Get(verify)
	page := readAll(t, resp, err)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign in a device as dev@example.com") || !strings.Contains(page, code) {
		t.Fatalf("device page after sign-in: got %d %q; want the confirmation for %s", resp.StatusCode, page, code)
	}
	post := func(code string) string {
		resp, err := b.PostForm(ds.URL.String()+"/.pomerium/device", url.Values{"user_code": {code}, "action": {"confirm"}})
		return readAll(t, resp, err)
	}
	if body := post("BCDF-GHJK"); !strings.Contains(body, "Unknown, used or expired code") {
		t.Errorf("a code nobody asked for: got %q; want it refused", body)
	}
	if body := post(strings.ToLower(code)); !strings.Contains(body, "Device signed in as dev@example.com") {
		t.Fatalf("confirming %s: got %q", code, body)
	}
	select {
	case got := <-done:
		if got != 0 {
			t.Fatalf("login --device: exit %d\n%s", got, errOut.String())
		}
	case <-ctx.Done():
		t.Fatal("login --device never finished after the code was confirmed")
	}
	if body := post(code); !strings.Contains(body, "Unknown, used or expired code") {
		t.Errorf("confirming a used code again: got %q; want it refused", body)
	}
	rc, listed, _ := e.run(e.args("routes", "list", ds.URL.String())...)
	if rc != 0 {
		t.Fatalf("routes list after device login: exit %d", rc)
	}
	assertTableHasEcho(t, listed, ds)
	if n := e.browserRuns(); n != 0 {
		t.Errorf("a local browser ran %d times; want none with --device", n)
	}
}

// TestE2ELogoutRevokes: `pomerium-cli logout` revokes the token at the
// server: a copy of it taken before is refused afterwards.
func TestE2ELogoutRevokes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	if rc, _, _ := e.run(e.args("login", ds.URL.String())...); rc != 0 {
		t.Fatalf("login: exit %d", rc)
	}
	rc, tok, _ := e.run(e.args("auth", ds.URL.String())...)
	tok = strings.TrimSpace(tok)
	if rc != 0 || !jwtRE.MatchString(tok) {
		t.Fatalf("auth: exit %d %q; want the cached token", rc, tok)
	}
	status := func() int {
		req, _ := http.NewRequest(http.MethodGet, ds.URL.String()+"/.pomerium/api/v1/routes", nil)
		req.Header.Set("Authorization", "Pomerium "+tok)
		req.Header.Set("Accept", "application/json")
		resp, err := deviceBrowser(t, ds).Do(req)
		readAll(t, resp, err)
		return resp.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("token before logout: got %d; want 200", got)
	}
	rc, _, stderr := e.run(e.args("logout", ds.URL.String())...)
	if rc != 0 || !strings.Contains(stderr, "Revoked the token at") {
		t.Fatalf("logout: exit %d %q; want the token revoked", rc, stderr)
	}
	if got := status(); got != http.StatusUnauthorized {
		t.Errorf("token copy after logout: got %d; want 401 (revoked at the server)", got)
	}
}

// TestE2EServiceAccountCreateUseRevoke: an admin creates a service
// account with pomerium-server; pomerium-cli uses its token unchanged
// (--service-account-file); policies see its user; revoked, it is refused.
func TestE2EServiceAccountCreateUseRevoke(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	yml := "shared_secret: " + secret + "\ndata_dir: " + filepath.Join(dir, "data") + "\n"
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		rc := servercmd.Run(context.Background(), servercmd.NewFactory(nil, &out, &errOut), append([]string{"service-account"}, args...))
		return rc, out.String(), errOut.String()
	}
	if rc, _, stderr := admin("create", "--config", cfgFile); rc == 0 || !strings.Contains(stderr, "--user") {
		t.Errorf("create without --user: exit %d %q; want a usage error naming --user", rc, stderr)
	}
	rc, tok, stderr := admin("create", "--config", cfgFile, "--user", "dev@example.com", "--expires", "720h")
	tok = strings.TrimSpace(tok)
	if rc != 0 || !jwtRE.MatchString(tok) {
		t.Fatalf("service-account create: exit %d %q %q", rc, tok, stderr)
	}
	id := strings.Fields(stderr)[2]
	if _, listed, _ := admin("list", "--config", cfgFile); !strings.Contains(listed, id) || strings.Contains(listed, tok) {
		t.Errorf("service-account list = %q; want %s listed and no token", listed, id)
	}
	data, err := os.ReadFile(filepath.Join(dir, "data", store.FileName))
	if err != nil || len(data) == 0 {
		t.Fatalf("reading the store file: %v", err)
	}
	if bytes.Contains(data, []byte(tok)) {
		t.Error("the store holds the token itself; want only its hash")
	}

	ds := testutil.StartDevServer(t, testutil.WithConfig(yml))
	e := newEnv(t, ds)
	tokFile := writeTemp(t, tok+"\n")
	rc, out, _ := e.run(e.args("routes", "list", ds.URL.String(), "--service-account-file", tokFile)...)
	if rc != 0 || !strings.Contains(out, "admin-echo") {
		t.Fatalf("routes list as the service account: exit %d %q; want admin-echo (dev@example.com's route)", rc, out)
	}
	if rc, _, stderr := admin("revoke", "--config", cfgFile, id); rc != 0 {
		t.Fatalf("revoke: exit %d %q", rc, stderr)
	}
	// The file store is not watched across processes: the server reads
	// the revocation when it starts again (PostgreSQL replicas follow it live).
	ds.Restart(t)
	if rc, _, _ := e.run(e.args("routes", "list", ds.URL.String(), "--service-account-file", tokFile)...); rc == 0 {
		t.Error("routes list with a revoked service account succeeded; want it refused")
	}
}
