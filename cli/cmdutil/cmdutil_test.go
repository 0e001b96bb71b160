package cmdutil

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/server/devca"
)

func TestParseServerURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "https://proxy.example.com", want: "https://proxy.example.com"},
		{in: "https://proxy.example.com:8443/some/path?q=1", want: "https://proxy.example.com:8443"},
		{in: "proxy.example.com:8443", want: "https://proxy.example.com:8443"},
		{in: " 127.0.0.1:4443 ", want: "https://127.0.0.1:4443"},
		{in: "http://proxy.example.com", wantErr: true},
		{in: "tcp+https://proxy/db:5432", wantErr: true},
		{in: "", wantErr: true},
		{in: "https://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseServerURL(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseServerURL(%q) = %v; want an error", tt.in, u)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseServerURL(%q): %v", tt.in, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("ParseServerURL(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLastServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	ios, _, _, _ := TestIO()
	f := &Factory{IO: ios, ConfigDir: dir}
	got, err := f.LastServer()
	if err != nil || got != "" {
		t.Fatalf("LastServer() before any save = %q, %v; want \"\", nil", got, err)
	}
	for _, u := range []string{"https://a.example.com", "https://b.example.com:8443"} {
		if err := f.SaveLastServer(u); err != nil {
			t.Fatalf("SaveLastServer(%q): %v", u, err)
		}
		got, err := f.LastServer()
		if err != nil || got != u {
			t.Fatalf("LastServer() = %q, %v; want %q", got, err, u)
		}
	}
	st, err := os.Stat(filepath.Join(dir, lastServerFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("last-server mode = %v; want 0600", mode)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("config dir holds %d entries; want 2 (last-server, servers.json; no temp files left)", len(entries))
	}
}

func TestServiceAccountToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sa")
	if err := os.WriteFile(file, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    GlobalOptions
		env     string
		want    string
		wantErr bool
	}{
		{name: "none", want: ""},
		{name: "flag", opts: GlobalOptions{ServiceAccount: "flag-token"}, env: "env-token", want: "flag-token"},
		{name: "file", opts: GlobalOptions{ServiceAccountFile: file}, env: "env-token", want: "file-token"},
		{name: "env", env: " env-token\n", want: "env-token"},
		{name: "missing file", opts: GlobalOptions{ServiceAccountFile: file + ".nope"}, wantErr: true},
		{name: "empty file", opts: GlobalOptions{ServiceAccountFile: empty}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{Opts: tt.opts, Getenv: func(k string) string {
				if k == EnvServiceAccount {
					return tt.env
				}
				return ""
			}}
			got, err := f.ServiceAccountToken()
			if (err != nil) != tt.wantErr {
				t.Fatalf("ServiceAccountToken() error = %v; want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ServiceAccountToken() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestCommandOpenerRunsWithURLLast(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "args")
	script := filepath.Join(dir, "browser with space.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > \""+marker+".tmp\" && mv \""+marker+".tmp\" \""+marker+"\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := TestIO()
	// Quoted, as a user would type a path with a space.
	f := &Factory{IO: ios, Opts: GlobalOptions{BrowserCmd: "'" + script + "'"}}
	open := f.browserOpener()
	if open == nil {
		t.Fatal("browserOpener() = nil with --browser-cmd; want a function")
	}
	if err := open(t.Context(), "https://idp.example/sign?x=1"); err != nil {
		t.Fatal(err)
	}
	b := waitForFile(t, marker)
	if got, want := string(b), "https://idp.example/sign?x=1\n"; got != want {
		t.Errorf("browser got args %q; want %q", got, want)
	}

	f2 := &Factory{IO: ios, Opts: GlobalOptions{NoBrowser: true, BrowserCmd: script}}
	if f2.browserOpener() != nil {
		t.Error("browserOpener() with --no-browser is not nil; want nil (open nothing)")
	}
}

func TestAuthenticatorTLS(t *testing.T) {
	ios, _, _, _ := TestIO()
	f := &Factory{IO: ios, Opts: GlobalOptions{TLS: tlsconfig.Options{DisableVerification: true}},
		Tokens: authflow.NewCache(authflow.CacheOptions{Dir: t.TempDir(), NoKeyring: true})}
	flags, err := f.Authenticator()
	if err != nil {
		t.Fatal(err)
	}
	same, err := f.AuthenticatorTLS(f.Opts.TLS)
	if err != nil || same != flags {
		t.Fatalf("AuthenticatorTLS(the flags' options) = %p, %v; want the flags' authenticator %p", same, err, flags)
	}
	ca, err := devca.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	saved := tlsconfig.Options{CAFile: ca.CertFile}
	a1, err := f.AuthenticatorTLS(saved)
	if err != nil {
		t.Fatal(err)
	}
	if a1 == flags {
		t.Fatal("AuthenticatorTLS(a saved connection's CA) is the flags' authenticator; want its own")
	}
	if a2, _ := f.AuthenticatorTLS(saved); a2 != a1 {
		t.Error("AuthenticatorTLS built a second authenticator for the same options; want one, so concurrent tunnels share a sign-in")
	}
	// The saved CA's client verifies: a server under another CA fails, one
	// under the saved CA passes.
	portal, portalCA := testutil.FakePortal(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if resp, err := a1.Flow.HTTPClient.Get(portal); err == nil {
		resp.Body.Close()
		t.Errorf("the saved connection's sign-in client reached a server its CA did not sign; want a verification error")
	}
	a3, err := f.AuthenticatorTLS(tlsconfig.Options{CAFile: portalCA})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a3.Flow.HTTPClient.Get(portal)
	if err != nil {
		t.Fatalf("the sign-in client of a saved connection with the server's CA: %v", err)
	}
	resp.Body.Close()
	if a1.Store != flags.Store {
		t.Error("the token cache is not shared; one sign-in must serve every route of a proxy")
	}
	if _, err := f.AuthenticatorTLS(tlsconfig.Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("AuthenticatorTLS with a missing CA file: no error")
	}
}
