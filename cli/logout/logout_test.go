package logout

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// memStore is an in-memory authflow.TokenStore for edge cases; the real
// cache is exercised by the end-to-end tests in package cli.
type memStore map[string]string

func (m memStore) Load(h string) (string, error) {
	if t, ok := m[h]; ok {
		return t, nil
	}
	return "", authflow.ErrNotFound
}
func (m memStore) Save(h, t string) error { m[h] = t; return nil }
func (m memStore) Delete(h string) error {
	if _, ok := m[h]; !ok {
		return authflow.ErrNotFound
	}
	delete(m, h)
	return nil
}
func (m memStore) Hosts() ([]string, error) {
	var hs []string
	for h := range m {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return hs, nil
}

func TestLogoutRun(t *testing.T) {
	tests := []struct {
		name       string
		opts       LogoutOptions
		last       string
		store      memStore
		wantLeft   []string
		wantStderr string
		wantUsage  bool
		revokeErr  error
		wantRevoke []string // host=token pairs sent to the proxy
	}{
		{name: "all", opts: LogoutOptions{All: true}, store: memStore{"a.example.com": "1", "b.example.com:8443": "2"},
			wantLeft: nil, wantStderr: "Signed out of b.example.com:8443", wantRevoke: []string{"a.example.com=1", "b.example.com:8443=2"}},
		{name: "revoke fails", opts: LogoutOptions{ServerURL: "https://a.example.com"}, store: memStore{"a.example.com": "1"},
			revokeErr: errors.New("connection refused"), wantStderr: "could not revoke the token at the proxy (connection refused)", wantRevoke: []string{"a.example.com=1"}},
		{name: "proxy without the API", opts: LogoutOptions{ServerURL: "https://a.example.com"}, store: memStore{"a.example.com": "1"},
			revokeErr: authflow.ErrRevokeUnsupported, wantStderr: "Signed out of a.example.com", wantRevoke: []string{"a.example.com=1"}},
		{name: "all empty", opts: LogoutOptions{All: true}, store: memStore{}, wantStderr: "No cached tokens."},
		{name: "remembered", last: "https://a.example.com", store: memStore{"a.example.com": "1", "b.example.com": "2"},
			wantLeft: []string{"b.example.com"}, wantStderr: "Signed out of a.example.com", wantRevoke: []string{"a.example.com=1"}},
		{name: "not signed in", opts: LogoutOptions{ServerURL: "https://c.example.com"}, store: memStore{"a.example.com": "1"},
			wantLeft: []string{"a.example.com"}, wantStderr: "Not signed in to c.example.com"},
		{name: "nothing remembered", store: memStore{}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, errOut := cmdutil.TestIO()
			f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), Tokens: tt.store}
			if tt.last != "" {
				if err := f.SaveLastServer(tt.last); err != nil {
					t.Fatal(err)
				}
			}
			opts := tt.opts
			opts.IO, opts.Factory = ios, f
			var revoked []string
			opts.Revoke = func(_ context.Context, proxy *url.URL, tok string) error {
				revoked = append(revoked, proxy.Host+"="+tok)
				return tt.revokeErr
			}
			err := logoutRun(&opts)
			if tt.wantUsage {
				if !cmdutil.IsUsageError(err) {
					t.Fatalf("error = %v; want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			left, _ := tt.store.Hosts()
			if strings.Join(left, ",") != strings.Join(tt.wantLeft, ",") {
				t.Errorf("hosts left = %v; want %v", left, tt.wantLeft)
			}
			if !strings.Contains(errOut.String(), tt.wantStderr) {
				t.Errorf("stderr = %q; want %q", errOut.String(), tt.wantStderr)
			}
			if strings.Join(revoked, ",") != strings.Join(tt.wantRevoke, ",") {
				t.Errorf("revoked = %v; want %v", revoked, tt.wantRevoke)
			}
		})
	}
}
