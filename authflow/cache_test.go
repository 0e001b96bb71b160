package authflow_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/porthole-dev/porthole/authflow"
)

func TestFileCache(t *testing.T) {
	dir := t.TempDir()
	c := authflow.NewCache(authflow.CacheOptions{Dir: dir, NoKeyring: true})
	hosts := []string{"proxy.example.com", "127.0.0.1:8443", "[::1]:9443"}
	for i, h := range hosts {
		if err := c.Save(h, fmt.Sprintf("token-%d", i)); err != nil {
			t.Fatalf("Save(%s): %v", h, err)
		}
	}
	for i, h := range hosts {
		p := c.TokenPath(h)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("token file for %s: %v", h, err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Fatalf("mode of %s: got %o; want 600", p, m)
		}
		b, _ := os.ReadFile(p)
		if want := fmt.Sprintf("token-%d\n", i); string(b) != want {
			t.Fatalf("content of %s: got %q; want %q", p, b, want)
		}
		if got, err := c.Load(h); err != nil || got != fmt.Sprintf("token-%d", i) {
			t.Fatalf("Load(%s): got %q, %v", h, got, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tokens")); fi.Mode().Perm() != 0o700 {
		t.Fatalf("tokens dir mode: got %o; want 700", fi.Mode().Perm())
	}
	got, err := c.Hosts()
	if err != nil || strings.Join(got, ",") != "127.0.0.1:8443,[::1]:9443,proxy.example.com" {
		t.Fatalf("Hosts: got %q, %v", got, err)
	}
	var ix struct{ Hosts []string }
	b, _ := os.ReadFile(filepath.Join(dir, "hosts.json"))
	if err := json.Unmarshal(b, &ix); err != nil || len(ix.Hosts) != 3 || bytes.Contains(b, []byte("token-")) {
		t.Fatalf("hosts.json: got %s, %v; want 3 hosts and no tokens", b, err)
	}
	if err := c.Delete("proxy.example.com"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Load("proxy.example.com"); !errors.Is(err, authflow.ErrNotFound) {
		t.Fatalf("Load after Delete: got %v; want ErrNotFound", err)
	}
	if err := c.Delete("proxy.example.com"); !errors.Is(err, authflow.ErrNotFound) {
		t.Fatalf("second Delete: got %v; want ErrNotFound", err)
	}
	if got, _ := c.Hosts(); len(got) != 2 {
		t.Fatalf("Hosts after Delete: got %q; want 2", got)
	}
}

// TestNoDBusFallback runs the cache in a child process without a D-Bus
// session: it falls back to the 0600 file and says so once.
func TestNoDBusFallback(t *testing.T) {
	if dir := os.Getenv("AUTHFLOW_CHILD_DIR"); dir != "" {
		var stderr bytes.Buffer
		c := authflow.NewCache(authflow.CacheOptions{Dir: dir, Stderr: &stderr, Service: "porthole-test"})
		for _, h := range []string{"a.example.com", "b.example.com"} {
			if err := c.Save(h, "tok-"+h); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}
		if got, err := c.Load("a.example.com"); err != nil || got != "tok-a.example.com" {
			t.Fatalf("Load: got %q, %v", got, err)
		}
		os.WriteFile(filepath.Join(dir, "stderr"), stderr.Bytes(), 0o600)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoDBusFallback$")
	cmd.Env = append(os.Environ(), "AUTHFLOW_CHILD_DIR="+dir, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	want := "Tokens are kept in files only you can read, in " + filepath.Join(dir, "tokens")
	if strings.Count(string(stderr), "Tokens are kept in") != 1 || !strings.Contains(string(stderr), want) || strings.Contains(string(stderr), "org.freedesktop") {
		t.Fatalf("stderr: got %q; want one notice naming %q", stderr, want)
	}
	c := authflow.NewCache(authflow.CacheOptions{Dir: dir, NoKeyring: true})
	fi, err := os.Stat(c.TokenPath("a.example.com"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want 0600", err, fi)
	}
}

// TestKeyring stores a token in the real Secret Service (gnome-keyring
// under dbus-run-session, see scripts/with-keyring.sh).
func TestKeyring(t *testing.T) {
	if os.Getenv("PORTHOLE_KEYRING") != "1" {
		if os.Getenv("PORTHOLE_STRICT") == "1" {
			t.Fatal("PORTHOLE_KEYRING is not set: run under scripts/with-keyring.sh (make test does)")
		}
		t.Skip("no keyring session; run: scripts/with-keyring.sh go test ./authflow/ -run Keyring")
	}
	service := fmt.Sprintf("porthole-test-%d", time.Now().UnixNano())
	dir := t.TempDir()
	var stderr bytes.Buffer
	c := authflow.NewCache(authflow.CacheOptions{Dir: dir, Service: service, Stderr: &stderr})
	const host, tok = "proxy.example.com:8443", "secret-token-value"
	if err := c.Save(host, tok); err != nil {
		t.Fatalf("Save: %v", err)
	}
	t.Cleanup(func() { keyring.Delete(service, host) })
	// The store is named once per cache directory, in plain words.
	if want := "Tokens are kept in the OS keyring.\n"; !c.UsingKeyring() || stderr.String() != want {
		t.Fatalf("keyring not used or notice wrong: stderr %q; want %q", stderr.String(), want)
	}
	var again bytes.Buffer
	c2 := authflow.NewCache(authflow.CacheOptions{Dir: dir, Service: service, Stderr: &again})
	if got, err := c2.Load(host); err != nil || got != tok || again.Len() != 0 {
		t.Fatalf("second cache: Load %q, %v, stderr %q; want the token and no second notice", got, err, again.String())
	}
	if got, err := keyring.Get(service, host); err != nil || got != tok {
		t.Fatalf("keyring.Get: got %q, %v; want the token", got, err)
	}
	if _, err := os.Stat(c.TokenPath(host)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file: got %v; want none (the token is in the keyring)", err)
	}
	if hs, _ := c.Hosts(); len(hs) != 1 || hs[0] != host {
		t.Fatalf("Hosts: got %q; want [%s]", hs, host)
	}
	if got, err := c.Load(host); err != nil || got != tok {
		t.Fatalf("Load: got %q, %v", got, err)
	}
	if err := c.Delete(host); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get(service, host); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("keyring after Delete: got %v; want ErrNotFound", err)
	}
}
