package cli_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
)

// TestCompletion runs cobra's __complete as a shell does. The remembered
// server refuses connections and its routes cache is a day old: every
// candidate must come from local files, never a network call or sign-in.
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "https://" + ln.Addr().String()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	defer ln.Close()
	connFile := filepath.Join(dir, "connections.json")
	mk := func(out *bytes.Buffer) *cmdutil.Factory {
		f := cli.NewFactory(strings.NewReader(""), out, &bytes.Buffer{})
		f.ConfigDir, f.CacheDir = filepath.Join(dir, "config"), filepath.Join(dir, "cache")
		f.Getenv = func(k string) string {
			if k == saved.EnvPath {
				return connFile
			}
			return os.Getenv(k)
		}
		return f
	}
	f := mk(&bytes.Buffer{})
	f.Now = func() time.Time { return time.Now().Add(-24 * time.Hour) }
	if err := f.SaveLastServer(server); err != nil {
		t.Fatal(err)
	}
	u, _ := cmdutil.ParseServerURL(server)
	if err := f.SaveRoutes(u, []portalclient.Route{
		{Name: "echo", Type: "tcp", Description: "TCP echo"},
		{Name: "admin-echo", Type: "tcp", From: "tcp+https://p/admin:1"},
		{Name: "dns", Type: "udp", From: "udp+https://p/dns:53"},
		{Name: "web", Type: "http"},
		{Name: "evil\x1b[31m", Type: "tcp"},
		{Name: "hostile", Type: "tcp", Description: "bad\x1b]0;x\a"},
	}); err != nil {
		t.Fatal(err)
	}
	st := saved.NewStore(connFile)
	for _, c := range []saved.Connection{
		{Name: "db", Destination: "tcp+https://p/db:5432", Tags: []string{"prod"}},
		{Name: "cache", Destination: "tcp+https://p/redis:6379", Tags: []string{"dev", "prod"}},
	} {
		if _, err := st.Put(c); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := st.List()

	tests := []struct {
		args    []string
		want    []string
		notWant []string
	}{
		{[]string{"tcp", ""}, []string{"echo\tTCP echo", "admin-echo\ttcp+https://p/admin:1", "hostile\t" + `bad\x1b]0;x\x07`}, []string{"dns", "web", "evil"}},
		{[]string{"udp", ""}, []string{"dns\tudp+https://p/dns:53"}, []string{"echo"}},
		{[]string{"tcp", "echo", ""}, nil, []string{"echo", "admin-echo"}},
		{[]string{"connections", "add", "--route", ""}, []string{"echo\tTCP echo", "admin-echo\t", "dns\tudp+https://p/dns:53"}, []string{"web", "evil"}},
		{[]string{"routes", "list", ""}, []string{server + "\tlast used "}, nil},
		{[]string{"status", ""}, []string{server}, nil},
		{[]string{"login", ""}, []string{server}, nil},
		{[]string{"tcp", "x", "--pomerium-url", ""}, []string{server}, nil},
		{[]string{"connections", "connect", ""}, []string{"db\ttcp+https://p/db:5432", "cache\t", list[0].ID + "\t"}, nil},
		{[]string{"connections", "rm", "db", ""}, []string{"cache\t"}, nil},
		{[]string{"connections", "list", "--tag", ""}, []string{"dev", "prod"}, nil},
		{[]string{"connections", "list", "-o", ""}, []string{"table", "json", "yaml"}, nil},
		{[]string{"routes", "list", "-o", ""}, []string{"table", "json", "yaml", "block"}, nil},
		{[]string{"status", "-o", ""}, []string{"text", "json", "yaml"}, nil},
		{[]string{"servers", "list", "-o", ""}, []string{"table", "json", "yaml"}, nil},
		{[]string{"servers", "forget", ""}, []string{server}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := cli.Run(context.Background(), mk(&out), append([]string{"__complete"}, tt.args...))
			if code != 0 {
				t.Fatalf("__complete exit %d", code)
			}
			got := out.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("completions %q; want %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, "\n"+w) || strings.HasPrefix(got, w) {
					t.Errorf("completions %q; want no %q", got, w)
				}
			}
			if !strings.Contains(got, ":4\n") {
				t.Errorf("completions %q; want the no-file directive (:4)", got)
			}
			if err := termtest.Check(strings.ReplaceAll(got, "\t", " "), false); err != nil {
				t.Errorf("completion output carries raw controls: %v", err)
			}
		})
	}
	// connections list -o yaml speaks the file's keys, like routes list.
	var out bytes.Buffer
	if code := cli.Run(context.Background(), mk(&out), []string{"connections", "list", "-o", "yaml"}); code != 0 ||
		!strings.Contains(out.String(), "name: db\n") || !strings.Contains(out.String(), "destination: tcp+https://p/db:5432\n") || !strings.Contains(out.String(), "- prod\n") {
		t.Errorf("connections list -o yaml: exit %d, %q", code, out.String())
	}
	select {
	case <-accepted:
		t.Error("a completion connected to the server; want caches only")
	default:
	}
}

// Every command with --output completes its values (none falls back to
// file names).
func TestCompletionEveryOutputFlag(t *testing.T) {
	dir := t.TempDir()
	mk := func(out *bytes.Buffer) *cli.Factory {
		f := cli.NewFactory(strings.NewReader(""), out, &bytes.Buffer{})
		f.ConfigDir, f.CacheDir = filepath.Join(dir, "config"), filepath.Join(dir, "cache")
		return f
	}
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Flags().Lookup("output") != nil {
			paths = append(paths, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(cli.NewCmdRoot(mk(&bytes.Buffer{})), nil)
	if len(paths) < 4 {
		t.Fatalf("found --output on %d commands (%v); want at least routes list, connections list, status, servers list", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(strings.Join(p, " "), func(t *testing.T) {
			var out bytes.Buffer
			args := append(append([]string{"__complete"}, p...), "--output", "")
			if code := cli.Run(context.Background(), mk(&out), args); code != 0 {
				t.Fatalf("exit %d", code)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) < 2 || !strings.HasSuffix(out.String(), ":4\n") || !strings.Contains(out.String(), "json") {
				t.Errorf("completions %q; want the output formats (json among them) and no file names", out.String())
			}
		})
	}
}
