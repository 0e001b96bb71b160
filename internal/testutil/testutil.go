// Package testutil holds helpers shared by the end-to-end tests: an
// in-process dev server, binaries built once per test process, and
// requirements on real tools (Chromium, Xvfb, tmux, a keyring) that fail
// instead of skip when PORTHOLE_STRICT=1 (as `make test` sets it).
package testutil

import (
	"crypto/x509"
	"net/url"
	"os"
	"os/exec"
	"testing"
)

// Require finds tool on PATH. When it is missing the test fails under
// PORTHOLE_STRICT=1 (make test, CI) and is skipped otherwise, so a missing
// tool never silently hides a feature in CI.
func Require(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("PORTHOLE_STRICT") == "1" {
		t.Fatalf("%s is required (PORTHOLE_STRICT=1) but not on PATH: run `make deps`", tool)
	}
	t.Skipf("%s not on PATH; run `make test` to install it", tool)
	return ""
}

// DevServer is a pomerium-server --dev running in this test process on
// 127.0.0.1 with a random port and its own dev dir.
type DevServer struct {
	URL    *url.URL // https://127.0.0.1:PORT
	Addr   string   // 127.0.0.1:PORT
	Dir    string   // dev dir (CA, keys)
	CAFile string   // <Dir>/ca.pem
	CAPool *x509.CertPool
}

// DevOption tweaks StartDevServer.
type DevOption func(*devOptions)

type devOptions struct {
	autoLogin string
	dir       string
	addr      string
	config    string          // YAML with more routes (WithConfig)
	authn     devAuthnOptions // devserver_authn.go
}

// AutoLogin signs EMAIL in at the built-in provider without the page.
func AutoLogin(email string) DevOption { return func(o *devOptions) { o.autoLogin = email } }
