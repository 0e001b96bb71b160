// Package pgtest starts a private PostgreSQL cluster for a test: initdb
// into a temporary directory and pg_ctl on a free loopback port, as the
// `postgres` system user when the test runs as root (initdb refuses root).
// Without PostgreSQL the test is skipped, or fails under
// PORTHOLE_STRICT=1 (make test), as `make deps` installs it.
//
//	c := pgtest.Start(t)            // stopped and removed at the end of t
//	url := c.NewDatabase(t)         // postgresql://postgres@127.0.0.1:PORT/db_1?sslmode=disable
//	c.Stop(t); c.Restart(t)         // e.g. a database outage mid-test
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Cluster is one running (or stopped) private PostgreSQL server.
type Cluster struct {
	Port   int
	Dir    string // holds data/, the socket and the log
	bin    string
	asUser string // "" when not root

	extra string // more server options

	mu  sync.Mutex
	dbs int
}

// Option tweaks Start.
type Option func(*Cluster)

// LogStatements has the server log every statement it runs (Log), so a
// test can tell which requests reach the database.
func LogStatements() Option { return func(c *Cluster) { c.extra += " -c log_statement=all" } }

// Start initializes and starts a cluster; t's cleanup stops it and removes
// its files.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	bin := findBin(t)
	c := &Cluster{bin: bin}
	for _, o := range opts {
		o(c)
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			fail(t, "the tests run as root and PostgreSQL's initdb refuses root, but there is no `postgres` user: %v", err)
		}
		c.asUser = "postgres"
	}
	dir, err := os.MkdirTemp("", "porthole-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	t.Cleanup(func() {
		c.stop(t, "immediate")
		os.RemoveAll(dir)
	})
	if c.asUser != "" {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("chown", c.asUser, dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s %s: %v: %s", c.asUser, dir, err, out)
		}
	}
	c.run(t, 2*time.Minute, "initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	var last error
	for range 5 {
		c.Port = freePort(t)
		if last = c.start(t); last == nil {
			return c
		}
	}
	t.Fatalf("starting PostgreSQL: %v\n%s", last, c.Log())
	return nil
}

func (c *Cluster) data() string { return filepath.Join(c.Dir, "data") }

// ConnString is the URL of database db (trust auth on loopback).
func (c *Cluster) ConnString(db string) string {
	return fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	c.dbs++
	name := fmt.Sprintf("db_%d", c.dbs)
	c.mu.Unlock()
	c.run(t, time.Minute, "createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", name)
	return c.ConnString(name)
}

// Stop shuts the server down (fast: connections are cut), keeping data.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.stop(t, "fast"); err != nil {
		t.Fatalf("stopping PostgreSQL: %v", err)
	}
}

// Restart starts a stopped cluster again on the same port.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.start(t); err != nil {
		t.Fatalf("restarting PostgreSQL: %v\n%s", err, c.Log())
	}
}

// Log is the server log so far (for failure messages).
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
	return string(b)
}

func (c *Cluster) start(t testing.TB) error {
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200%s", c.Port, c.Dir, c.extra)
	// A loaded machine can take a minute to bring a cluster up.
	_, err := c.cmd(t, 4*time.Minute, "pg_ctl", "-D", c.data(), "-l", filepath.Join(c.Dir, "log"), "-w", "-t", "180", "-o", opts, "start")
	return err
}

func (c *Cluster) stop(t testing.TB, mode string) error {
	if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err != nil {
		return nil // not running
	}
	_, err := c.cmd(t, 3*time.Minute, "pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "120", "stop")
	return err
}

func (c *Cluster) run(t testing.TB, timeout time.Duration, tool string, args ...string) {
	t.Helper()
	if out, err := c.cmd(t, timeout, tool, args...); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

func (c *Cluster) cmd(t testing.TB, timeout time.Duration, tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append([]string{filepath.Join(c.bin, tool)}, args...)
	if c.asUser != "" {
		argv = append([]string{"runuser", "-u", c.asUser, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", tool, err, out)
	}
	return out, nil
}

// findBin finds the directory with initdb and pg_ctl: Debian keeps them
// in /usr/lib/postgresql/VERSION/bin, off PATH.
func findBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	fail(t, "PostgreSQL (initdb, pg_ctl) is not installed; run `make deps` (Debian package postgresql)")
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func fail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("PORTHOLE_STRICT") == "1" {
		t.Fatalf(format+" (PORTHOLE_STRICT=1: required)", args...)
	}
	t.Skipf(format, args...)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
