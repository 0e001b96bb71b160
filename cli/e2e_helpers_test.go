package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// env is one isolated user: its own config and cache dirs, tokens in the
// 0600 file store, and a browser command that counts its invocations.
type env struct {
	t        *testing.T
	dir      string
	config   string
	cache    string
	browser  string // --browser-cmd
	count    string // one line per browser invocation
	ca       string
	caPin    string // the Chromium flag trusting the dev CA
	extraEnv map[string]string
}

func newEnv(t *testing.T, ds *testutil.DevServer) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "config"), cache: filepath.Join(dir, "cache"),
		count: filepath.Join(dir, "browser-count"), ca: ds.CAFile, caPin: testutil.ChromiumTrust(ds.CACert(t))}
	return e
}

// useCurl makes the "browser" curl following redirects with a cookie jar,
// trusting the dev CA: a plain HTTP client signing in.
func (e *env) useCurl() {
	e.t.Helper()
	curl := testutil.Require(e.t, "curl")
	e.browser = e.script("curl-browser", `printf 'x\n' >> '`+e.count+`'
url="${@: -1}"
exec '`+curl+`' -sS -L --max-time 120 --cacert '`+e.ca+`' -c '`+e.dir+`/jar' -b '`+e.dir+`/jar' -o /dev/null "$url"
`)
}

// useChromium makes the browser headless Chromium; with the dev server's
// auto-login it follows the sign-in to the CLI's callback with no click.
func (e *env) useChromium() {
	e.t.Helper()
	chromium := testutil.Require(e.t, "chromium")
	done := e.count + ".done"
	e.browser = e.script("chromium-browser", `printf 'x\n' >> '`+e.count+`'
url="${@: -1}"
profile=$(mktemp -d '`+e.dir+`/chromium-XXXXXX')
'`+chromium+`' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" '`+e.caPin+`' --dump-dom "$url" >/dev/null 2>"$profile.log"
rc=$?
printf 'x\n' >> '`+done+`'
exit $rc
`)
	// The CLI goes on once the callback arrives, while Chromium may still
	// write its profile under e.dir: the temp dir's removal, which runs
	// after this, would find it not empty.
	e.t.Cleanup(func() {
		deadline := time.Now().Add(30 * time.Second)
		for lines(done) < e.browserRuns() {
			if time.Now().After(deadline) {
				e.t.Errorf("%d of %d Chromium runs still going after 30s", e.browserRuns()-lines(done), e.browserRuns())
				return
			}
			time.Sleep(20 * time.Millisecond) // polling another process's exit
		}
	})
}

// lines counts the lines of the file at path (0 when it is missing).
func lines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func (e *env) script(name, body string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte("#!/usr/bin/env bash\nset -u\n"+body), 0o700); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// browserRuns is how many times the browser command ran.
func (e *env) browserRuns() int { return lines(e.count) }

func (e *env) factory(in io.Reader, out, errOut io.Writer) *cli.Factory {
	f := cli.NewFactory(in, out, errOut)
	f.ConfigDir = e.config
	f.CacheDir = e.cache
	f.Getenv = func(k string) string {
		if v, ok := e.extraEnv[k]; ok {
			return v
		}
		if k == "POMERIUM_CLI_NO_KEYRING" {
			return "1"
		}
		return os.Getenv(k)
	}
	return f
}

// args adds the flags every call needs: the dev CA and the browser.
func (e *env) args(args ...string) []string {
	out := append([]string{}, args...)
	if e.browser != "" {
		out = append(out, "--browser-cmd", e.browser)
	}
	return append(out, "--alternate-ca-path", e.ca)
}

// run runs pomerium-cli in-process.
func (e *env) run(args ...string) (int, string, string) {
	e.t.Helper()
	var out, errOut testutil.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Run(ctx, e.factory(strings.NewReader(""), &out, &errOut), args)
	e.t.Logf("pomerium-cli %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errOut.String())
	return code, out.String(), errOut.String()
}

// binEnv is the process environment for the real binary.
func (e *env) binEnv() []string {
	envv := []string{"HOME=" + e.dir, "XDG_CONFIG_HOME=" + e.config, "XDG_CACHE_HOME=" + e.cache,
		"POMERIUM_CLI_NO_KEYRING=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range e.extraEnv {
		envv = append(envv, k+"="+v)
	}
	return envv
}

// tokenFiles are the regular files under the cache dir.
func (e *env) tokenFiles() map[string]os.FileMode {
	files := map[string]os.FileMode{}
	_ = filepath.WalkDir(e.cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if st, err := d.Info(); err == nil {
				files[p] = st.Mode().Perm()
			}
		}
		return nil
	})
	return files
}

func (e *env) cacheHolds(s string) bool {
	for p := range e.tokenFiles() {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// startBinary runs the real pomerium-cli binary with args and returns
// its stderr and a channel closed when it exits.
func startBinary(t *testing.T, e *env, args ...string) (*exec.Cmd, *testutil.SyncBuffer, chan struct{}) {
	t.Helper()
	bin := testutil.BuildBinary(t, "pomerium-cli")
	cmd := exec.Command(bin, args...)
	cmd.Env = e.binEnv()
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	return cmd, stderr, done
}

// connectWords is the connect_command of the route named name in the
// output of `routes list -o json` (which exited with code), split into
// words as a user pastes it (no shell); nil when no route has the name.
func connectWords(t *testing.T, code int, out, name string) []string {
	t.Helper()
	var routes []struct {
		Name           string `json:"name"`
		ConnectCommand string `json:"connect_command"`
	}
	if err := json.Unmarshal([]byte(out), &routes); code != 0 || err != nil {
		t.Fatalf("routes list -o json: exit %d, %v", code, err)
	}
	var words []string
	for _, r := range routes {
		if r.Name == name {
			words = strings.Fields(r.ConnectCommand)
		}
	}
	return words
}
