package servercmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badCfg, []byte("adress: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		want     string
		wantCode int
	}{
		{"nothing", nil, "--config FILE or run with --dev", ExitUsage},
		{"stray argument", []string{"--dev", "extra"}, `unexpected argument "extra"`, ExitUsage},
		{"typo of a subcommand", []string{"confg", "check"}, `did you mean "config"`, ExitUsage},
		{"single-dash flag", []string{"-config", badCfg}, "unknown shorthand flag", ExitUsage},
		{"dev flag without dev", []string{"--config", badCfg, "--dev-auto-login", "a@b.c"}, "need --dev", ExitUsage},
		{"bad dev user", []string{"--dev", "--dev-user", "nobody"}, "EMAIL[:group,group]", ExitUsage},
		{"bad log level", []string{"--dev", "--log-level", "loud"}, "--log-level", ExitUsage},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml", ExitError},
		{"unknown key", []string{"--config", badCfg}, "adress", ExitError},
		{"bad address", []string{"--dev", "--dev-dir", dir, "--address", "nonsense"}, "nonsense", ExitError},
		{"config check of a bad file", []string{"config", "check", badCfg}, "adress", ExitError},
		{"config check without a file", []string{"config", "check"}, "--config FILE", ExitUsage},
		{"config check with two files", []string{"config", "check", "a", "b"}, "accepts at most 1 arg", ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			code := Run(context.Background(), NewFactory(nil, &out, &stderr), tc.args)
			if code != tc.wantCode {
				t.Errorf("exit code: got %d; want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			first, _, _ := strings.Cut(stderr.String(), "\n")
			if !strings.Contains(first, tc.want) {
				t.Errorf("first stderr line: got %q; want it to mention %q", first, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout: got %q; want nothing", out.String())
			}
		})
	}
}

func TestDevUserFlag(t *testing.T) {
	f := NewFactory(nil, &bytes.Buffer{}, &bytes.Buffer{})
	root := NewCmdRoot(f)
	var got *serveOptions
	// Parse only: find the flag set's values through a no-op RunE.
	root.RunE = func(*cobra.Command, []string) error { return nil }
	if err := root.ParseFlags([]string{"--dev", "--dev-user", "ops@example.com:ops,admins", "--dev-user", "x@example.com"}); err != nil {
		t.Fatal(err)
	}
	v := root.Flags().Lookup("dev-user").Value.(*devUserFlag)
	got = &serveOptions{devUsers: *v.users}
	if len(got.devUsers) != 2 {
		t.Fatalf("got %d users; want 2", len(got.devUsers))
	}
	if g := strings.Join(got.devUsers[0].Groups, ","); got.devUsers[0].Email != "ops@example.com" || g != "ops,admins" {
		t.Errorf("first user: got %s %q; want ops@example.com \"ops,admins\"", got.devUsers[0].Email, g)
	}
	if got.devUsers[1].Groups != nil {
		t.Errorf("second user groups: got %v; want none", got.devUsers[1].Groups)
	}
}

func TestVersionHelpCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--version"}, "pomerium-server "},
		{[]string{"version"}, "pomerium-server "},
		{[]string{"--help"}, "Work with configuration files"},
		{[]string{"--help"}, "service-account Manage service accounts"},
		{[]string{"completion", "bash"}, "bash completion"},
		{[]string{"__complete", "--log-level", ""}, "debug"},
		{[]string{"__complete", "con"}, "config"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, stderr bytes.Buffer
			if code := Run(context.Background(), NewFactory(nil, &out, &stderr), tc.args); code != ExitOK {
				t.Fatalf("exit %d; stderr %q", code, stderr.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("stdout: got %q; want it to contain %q", out.String(), tc.want)
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	yaml := "certificate_file: " + filepath.Join(dir, "missing.pem") + "\ncertificate_key_file: " + filepath.Join(dir, "missing.key") +
		"\nidp_provider_url: https://idp.example.com\nidp_client_id: x\nshared_secret: " + secret + "\n"
	if err := os.WriteFile(good, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	code := Run(context.Background(), NewFactory(nil, &out, &stderr), []string{"config", "check", good})
	if code != ExitError || !strings.Contains(stderr.String(), "missing.pem") {
		t.Errorf("missing certificate: got exit %d, stderr %q; want 1 naming missing.pem", code, stderr.String())
	}
}

// TestAPIUserCreate: the token, and nothing else, goes to stdout.
func TestAPIUserCreate(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	if err := os.WriteFile(cfg, []byte("address: 127.0.0.1:1\nshared_secret: "+secret+"\ndata_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	code := Run(context.Background(), NewFactory(nil, &out, &stderr), []string{"api-user", "create", "--config", cfg, "ci"})
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %q", code, stderr.String())
	}
	tok := strings.TrimSuffix(out.String(), "\n")
	if id, secret, ok := strings.Cut(tok, "."); !ok || id == "" || len(secret) < 40 || strings.ContainsAny(tok, " \n") {
		t.Errorf("stdout %q; want one token line ID.SECRET", out.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q; want nothing", stderr.String())
	}
	// The store the server would open holds the user, with a hash only.
	loaded, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := server.OpenStore(context.Background(), loaded, "")
	if err != nil {
		t.Fatal(err)
	}
	id, sec, _ := strings.Cut(tok, ".")
	u, err := store.APIUsers.Get(context.Background(), st, id)
	st.Close()
	if err != nil || u.Name != "ci" || !store.CheckSecret(u.SecretHash, sec) || strings.Contains(u.SecretHash, sec) {
		t.Errorf("stored user %+v, %v; want ci with only a hash of the token's secret", u, err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"api-user", "create", "--config", cfg}, ExitUsage, "exactly one NAME"},
		{[]string{"api-user", "create", "ci"}, ExitUsage, "--config FILE"},
		{[]string{"api-user", "create", "--config", cfg, ""}, ExitError, "name"},
	} {
		out.Reset()
		stderr.Reset()
		if code := Run(context.Background(), NewFactory(nil, &out, &stderr), tc.args); code != tc.code || !strings.Contains(stderr.String(), tc.want) || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d mentioning %q and no stdout", tc.args, code, stderr.String(), out.String(), tc.code, tc.want)
		}
	}
}
