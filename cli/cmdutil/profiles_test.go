package cmdutil

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

func newProfileFactory(t *testing.T) *Factory {
	ios, _, _, _ := TestIO()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Factory{IO: ios, ConfigDir: t.TempDir(), Now: func() time.Time {
		clock = clock.Add(time.Minute)
		return clock
	}}
}

func TestProfilesRememberApplyForget(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")

	// First run: flags given, the server remembered with them.
	f := newProfileFactory(t)
	cfgDir := f.ConfigDir
	f.Opts.TLS = tlsconfig.Options{CAFile: ca, ClientCertFile: "rel/cert.pem", DisableVerification: true}
	if _, err := f.ResolveServer("https://a.example.com:8443", "x"); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveLastServer("https://a.example.com:8443"); err != nil {
		t.Fatal(err)
	}
	f2 := newProfileFactory(t)
	f2.ConfigDir = cfgDir
	f2.Opts.TLS = tlsconfig.Options{CACert: "PEM"}
	if err := f2.SaveLastServer("https://b.example.com"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(cfgDir, serversFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("servers file: %v, mode %v; want 0600", err, st)
	}

	tests := []struct {
		name  string
		given string
		flags tlsconfig.Options
		want  tlsconfig.Options
		url   string
	}{
		{"no server: the last one with its options", "", tlsconfig.Options{}, tlsconfig.Options{CACert: "PEM"}, "https://b.example.com"},
		{"known server without flags: its profile, never insecure", "a.example.com:8443", tlsconfig.Options{},
			tlsconfig.Options{CAFile: ca, ClientCertFile: absPath("rel/cert.pem")}, "https://a.example.com:8443"},
		{"flags win over the profile", "https://a.example.com:8443", tlsconfig.Options{CAFile: "/other.pem"},
			tlsconfig.Options{CAFile: "/other.pem"}, "https://a.example.com:8443"},
		{"unknown server: flags as given", "https://c.example.com", tlsconfig.Options{}, tlsconfig.Options{}, "https://c.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newProfileFactory(t)
			g.ConfigDir = cfgDir
			g.Opts.TLS = tt.flags
			u, err := g.ResolveServer(tt.given, "x")
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tt.url || g.Opts.TLS != tt.want {
				t.Errorf("ResolveServer(%q) = %s with %+v; want %s with %+v", tt.given, u, g.Opts.TLS, tt.url, tt.want)
			}
		})
	}

	ps, err := f.Profiles()
	if err != nil || len(ps) != 2 || ps[0].URL != "https://b.example.com" {
		t.Fatalf("Profiles() = %+v, %v; want b then a", ps, err)
	}
	ok, err := f.ForgetServer(mustURL(t, "https://b.example.com"))
	if err != nil || !ok {
		t.Fatalf("ForgetServer(b) = %v, %v; want true", ok, err)
	}
	if last, _ := f.LastServer(); last != "https://a.example.com:8443" {
		t.Errorf("last server after forgetting b = %q; want a (the next most recent)", last)
	}
	if ok, err := f.ForgetServer(mustURL(t, "https://b.example.com")); ok || err != nil {
		t.Errorf("ForgetServer(b) again = %v, %v; want false, nil", ok, err)
	}
}

func TestProfilesBadFile(t *testing.T) {
	f := newProfileFactory(t)
	if err := os.WriteFile(filepath.Join(f.ConfigDir, serversFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.ResolveServer("https://a.example.com", "x")
	if err == nil || !strings.Contains(err.Error(), serversFile) || !strings.Contains(err.Error(), "fix or delete") {
		t.Fatalf("ResolveServer with a corrupt profile file: %v; want an error naming the file and the fix", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := ParseServerURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A server used again within lastUsedGrain keeps its time when it is
// already the most recent, so servers.json is not rewritten; later, or
// when another server was used in between, its time moves on.
func TestRememberServerGrain(t *testing.T) {
	f := &Factory{ConfigDir: t.TempDir()}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Now = func() time.Time { return now }
	a, b := mustURL(t, "https://a.example.com"), mustURL(t, "https://b.example.com")
	lastUsed := func(u *url.URL) time.Time {
		t.Helper()
		p, ok, err := f.Profile(u)
		if err != nil || !ok {
			t.Fatalf("Profile(%s) = %v, %v", u, ok, err)
		}
		return p.LastUsed
	}
	if err := f.RememberServer(a, ""); err != nil {
		t.Fatal(err)
	}
	file := watchFile(t, filepath.Join(f.ConfigDir, serversFile))
	steps := []struct {
		name    string
		after   time.Duration
		use     *url.URL
		want    time.Duration // a's LastUsed, from the start
		rewrite bool
	}{
		{"again at once", 0, a, 0, false},
		{"again within the grain", lastUsedGrain - time.Second, a, 0, false},
		{"again past the grain", lastUsedGrain, a, lastUsedGrain, true},
		{"another server between", lastUsedGrain + time.Second, b, lastUsedGrain, true},
		{"back within the grain of its own time", lastUsedGrain + 2*time.Second, a, lastUsedGrain + 2*time.Second, true},
	}
	start := now
	for _, s := range steps {
		now = start.Add(s.after)
		if err := f.RememberServer(s.use, ""); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if rewritten := file.replaced(); rewritten != s.rewrite {
			t.Errorf("%s: servers.json rewritten = %v, want %v", s.name, rewritten, s.rewrite)
		}
		if got := lastUsed(a); !got.Equal(start.Add(s.want)) {
			t.Errorf("%s: a's LastUsed = %v, want %v", s.name, got, start.Add(s.want))
		}
	}
	if ps, _ := f.Profiles(); len(ps) != 2 || ps[0].URL != a.String() {
		t.Errorf("Profiles() = %+v; want a (used last) first", ps)
	}
}

// fileWatch tells whether a file was replaced (a new inode: atomicfile
// renames a new file over it) since the last look.
type fileWatch struct {
	t    *testing.T
	path string
	last os.FileInfo
}

func watchFile(t *testing.T, path string) *fileWatch {
	t.Helper()
	w := &fileWatch{t: t, path: path}
	w.replaced()
	return w
}

func (w *fileWatch) replaced() bool {
	w.t.Helper()
	fi, err := os.Stat(w.path)
	if err != nil {
		w.t.Fatal(err)
	}
	was := w.last
	w.last = fi
	return was != nil && !os.SameFile(was, fi)
}
