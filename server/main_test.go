package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badCfg, []byte("adress: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "--config FILE or run with --dev"},
		{"stray argument", []string{"--dev", "extra"}, `unexpected argument "extra"`},
		{"dev flag without dev", []string{"--config", badCfg, "--dev-auto-login", "a@b.c"}, "need --dev"},
		{"bad dev user", []string{"--dev", "--dev-user", "nobody"}, "EMAIL[:group,group]"},
		{"bad log level", []string{"--dev", "--log-level", "loud"}, "--log-level"},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"unknown key", []string{"--config", badCfg}, "adress"},
		{"bad address", []string{"--dev", "--dev-dir", dir, "--address", "nonsense"}, "nonsense"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stderr)
			if err == nil {
				t.Fatalf("got no error; want one mentioning %q", tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("got %q; want one line mentioning %q", msg, tc.want)
			}
		})
	}
}

func TestParseDevUsers(t *testing.T) {
	f, err := parseFlags([]string{"--dev", "--dev-user", "ops@example.com:ops,admins", "--dev-user", "x@example.com"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.devUsers) != 2 {
		t.Fatalf("got %d users; want 2", len(f.devUsers))
	}
	if got := strings.Join(f.devUsers[0].Groups, ","); f.devUsers[0].Email != "ops@example.com" || got != "ops,admins" {
		t.Errorf("first user: got %s %q; want ops@example.com \"ops,admins\"", f.devUsers[0].Email, got)
	}
	if f.devUsers[1].Groups != nil {
		t.Errorf("second user groups: got %v; want none", f.devUsers[1].Groups)
	}
}
