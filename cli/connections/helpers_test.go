package connections_test

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	clicon "github.com/porthole-dev/porthole/cli/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// env is one user: a temp store, token cache and config dir; sign-ins are
// completed by a real HTTP client following the dev server's redirects
// (its built-in provider signs the user in with AutoLogin).
type env struct {
	t     *testing.T
	dir   string
	store string
	ds    *testutil.DevServer
	in    string // stdin for the next run
}

func newEnv(t *testing.T, ds *testutil.DevServer) *env {
	t.Helper()
	dir := t.TempDir()
	return &env{t: t, dir: dir, store: filepath.Join(dir, "config", "connections.json"), ds: ds}
}

func (e *env) factory(in io.Reader, out, errOut io.Writer) *cmdutil.Factory {
	f := &cmdutil.Factory{IO: &cmdutil.IOStreams{In: in, Out: out, ErrOut: errOut}}
	f.ConfigDir = filepath.Join(e.dir, "config")
	f.CacheDir = filepath.Join(e.dir, "cache")
	f.Getenv = func(k string) string {
		switch k {
		case "POMERIUM_CLI_NO_KEYRING":
			return "1"
		case "POMERIUM_CLI_CONNECTIONS":
			return e.store
		}
		return ""
	}
	if e.ds != nil {
		f.OpenURL = e.ds.FollowSignIn
	}
	return f
}

func root(f *cmdutil.Factory) *cobra.Command {
	r := f.NewRootCommand()
	r.AddCommand(clicon.NewCmdConnections(f))
	return r
}

// run runs `pomerium-cli connections ARGS` in-process.
func (e *env) run(args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	var out, errOut testutil.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := root(e.factory(strings.NewReader(e.in), &out, &errOut))
	r.SetArgs(append([]string{"connections"}, args...))
	err = r.ExecuteContext(ctx)
	e.in = ""
	e.t.Logf("connections %s: err %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	return out.String(), errOut.String(), err
}

// must is run that fails the test on error.
func (e *env) must(args ...string) (stdout, stderr string) {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("connections %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

// waitMatch is testutil.WaitMatch for output that outlives its command.
func waitMatch(t *testing.T, what string, read func() string, re *regexp.Regexp) []string {
	t.Helper()
	return testutil.WaitMatch(t, what, read, re, nil)
}

// start runs a long-lived command (connect) until the returned stop is called.
func (e *env) start(args ...string) (stderr *testutil.SyncBuffer, stop func() error) {
	e.t.Helper()
	var out testutil.SyncBuffer
	errOut := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	r := root(e.factory(strings.NewReader(""), &out, errOut))
	r.SetArgs(append([]string{"connections"}, args...))
	done := make(chan error, 1)
	go func() { done <- r.ExecuteContext(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				err = context.DeadlineExceeded
			}
		})
		return err
	}
	e.t.Cleanup(func() { _ = stop() })
	return errOut, stop
}
