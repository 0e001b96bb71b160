package authflow_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/authflow"
)

// Without a session bus the keyring is never asked (asking autolaunches a
// bus and a keyring daemon that outlive the command); the file store is
// named once per cache in plain words, not on every run.
func TestNoSessionBusUsesFileAndSaysSoOnce(t *testing.T) {
	for _, bus := range []string{"", "   ", "autolaunch:", "autolaunch:scope=x"} {
		t.Run(fmt.Sprintf("%q", bus), func(t *testing.T) {
			dir := t.TempDir()
			getenv := func(k string) string {
				if k == "DBUS_SESSION_BUS_ADDRESS" {
					return bus
				}
				return ""
			}
			var notices []string
			for run := 0; run < 3; run++ {
				var stderr bytes.Buffer
				c := authflow.NewCache(authflow.CacheOptions{Dir: dir, Stderr: &stderr, Service: "porthole-test", Getenv: getenv})
				if c.UsingKeyring() {
					t.Fatal("UsingKeyring with no session bus")
				}
				if err := c.Save("a.example.com", "tok"); err != nil {
					t.Fatal(err)
				}
				if got, err := c.Load("a.example.com"); err != nil || got != "tok" {
					t.Fatalf("Load = %q, %v", got, err)
				}
				notices = append(notices, stderr.String())
			}
			want := "Tokens are kept in files only you can read, in " + filepath.Join(dir, "tokens") + " (no keyring: no D-Bus session bus is running).\n"
			if notices[0] != want {
				t.Errorf("first run said %q; want %q", notices[0], want)
			}
			if notices[1] != "" || notices[2] != "" {
				t.Errorf("later runs said %q; want nothing (once per cache)", notices[1:])
			}
		})
	}
}

// A token file or directory others may read or write is repaired with a
// notice that says what was wrong.
func TestTokenFilePermissionsRepaired(t *testing.T) {
	for _, tc := range []struct {
		file, dir os.FileMode
		want      []string
	}{
		{0o644, 0o700, []string{"token file", "readable by group and others (mode 0644); set it to 0600"}},
		{0o640, 0o700, []string{"readable by group (mode 0640)"}},
		{0o604, 0o700, []string{"readable by others (mode 0604)"}},
		{0o660, 0o700, []string{"readable by group, writable by group (mode 0660)"}},
		{0o602, 0o700, []string{"writable by others (mode 0602)"}},
		{0o666, 0o700, []string{"readable by group and others, writable by group and others (mode 0666)"}},
		{0o610, 0o700, []string{"executable by group (mode 0610)"}},
		{0o600, 0o755, []string{"directory", "readable by group and others, executable by group and others (mode 0755); set it to 0700"}},
		{0o644, 0o777, []string{"directory", "(mode 0777)", "token file", "(mode 0644)"}},
		{0o600, 0o700, nil},
	} {
		t.Run(fmt.Sprintf("%04o in %04o", tc.file, tc.dir), func(t *testing.T) {
			dir := t.TempDir()
			var stderr bytes.Buffer
			c := authflow.NewCache(authflow.CacheOptions{Dir: dir, Stderr: &stderr, NoKeyring: true})
			if err := c.Save("a.example.com", "tok"); err != nil {
				t.Fatal(err)
			}
			p := c.TokenPath("a.example.com")
			if err := os.Chmod(p, tc.file); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Dir(p), tc.dir); err != nil {
				t.Fatal(err)
			}
			stderr.Reset()
			c = authflow.NewCache(authflow.CacheOptions{Dir: dir, Stderr: &stderr, NoKeyring: true})
			if got, err := c.Load("a.example.com"); err != nil || got != "tok" {
				t.Fatalf("Load = %q, %v", got, err)
			}
			for path, want := range map[string]os.FileMode{p: 0o600, filepath.Dir(p): 0o700} {
				if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
					t.Errorf("%s: mode %v, %v; want %04o", path, st.Mode().Perm(), err, want)
				}
			}
			out := stderr.String()
			if tc.want == nil && out != "" {
				t.Errorf("stderr = %q; want nothing for private files", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stderr = %q; want it to contain %q", out, w)
				}
			}
			if n := strings.Count(out, "\n"); tc.want != nil && n > 2 {
				t.Errorf("stderr has %d lines; want one per repaired path: %q", n, out)
			}
		})
	}
}
