package gui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestAccounts: the account area lists the saved connections' server and
// pomerium-cli's remembered one; Sign in at the dev server shows the
// signed-in email (never the token); Sign out revokes the token on the
// server and clears the cache, as `pomerium-cli logout` does; a sign-in
// made by a connection shows there too.
func TestAccounts(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	f := newFixture(t, []connections.Connection{{
		Name: "echo", Destination: "tcp+https://" + ds.Addr + "/echo.internal:7000", TLS: tlsCA(ds.CAFile),
	}}, func(c *Controller, o *Options) {
		c.OpenURL = ds.FollowSignIn
		if err := os.MkdirAll(o.ServersDir, 0o700); err != nil {
			t.Fatal(err)
		}
		servers := `{"servers":[{"url":"https://proxy.example.com","last_used":"2026-01-01T00:00:00Z"}]}`
		if err := os.WriteFile(filepath.Join(o.ServersDir, "servers.json"), []byte(servers), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	proxy := &url.URL{Scheme: "https", Host: ds.Addr}
	host := authflow.HostKey(proxy)
	v := f.w.accounts
	row := func(h string) *accountRow { return v.rows[h] }
	f.eventually("both servers listed", func() bool { return row(host) != nil && row("proxy.example.com") != nil })
	for _, h := range []string{host, "proxy.example.com"} {
		if r := row(h); r.who.Text != "not signed in" || r.button.Text != "Sign in" {
			t.Errorf("%s before sign-in: %q, button %q; want not signed in, Sign in", h, r.who.Text, r.button.Text)
		}
	}

	test.Tap(row(host).button)
	f.eventually("signed in", func() bool { return row(host).who.Text == "signed in as dev@example.com" })
	if got := row(host).button.Text; got != "Sign out" {
		t.Errorf("button after sign-in: got %q; want Sign out", got)
	}
	tok, err := f.ctrl.Tokens.Load(host)
	if err != nil || tok == "" {
		t.Fatalf("cached token: %v", err)
	}
	for _, o := range test.LaidOutObjects(f.w.Window().Content()) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, tok[len(tok)-16:]) {
			t.Errorf("a label shows the token: %q", l.Text)
		}
	}
	cfg, err := tlsCA(ds.CAFile).Config()
	if err != nil {
		t.Fatal(err)
	}
	check := &authflow.Authenticator{Flow: &authflow.Flow{HTTPClient: authflow.NewHTTPClient(cfg)}}
	if ok, err := check.Accepted(context.Background(), proxy, tok); err != nil || !ok {
		t.Fatalf("server accepts the new token: %v, %v; want true", ok, err)
	}

	test.Tap(row(host).button)
	f.eventually("signed out", func() bool { return row(host).who.Text == "not signed in" && !row(host).busy })
	if _, err := f.ctrl.Tokens.Load(host); !errors.Is(err, authflow.ErrNotFound) {
		t.Errorf("token cache after sign-out: %v; want ErrNotFound", err)
	}
	if ok, err := check.Accepted(context.Background(), proxy, tok); err != nil || ok {
		t.Errorf("server accepts the signed-out token: %v, %v; want refused (revoked)", ok, err)
	}

	// A connection's own sign-in shows in the account area.
	_, addr := f.switchOn("echo")
	f.dialEcho("echo", addr, []byte("hello\n"))
	f.eventually("the connection's sign-in shown", func() bool { return row(host).who.Text == "signed in as dev@example.com" })
}

// memTokens is a TokenStore in memory, for claims a test crafts.
type memTokens map[string]string

func (m memTokens) Load(host string) (string, error) {
	if t, ok := m[host]; ok {
		return t, nil
	}
	return "", authflow.ErrNotFound
}
func (m memTokens) Save(host, tok string) error { m[host] = tok; return nil }
func (m memTokens) Delete(host string) error    { delete(m, host); return nil }
func (m memTokens) Hosts() ([]string, error)    { return nil, nil }

// TestAccountClaimsHostile: whatever the cached token claims is shown as
// one plain line (terminal controls escaped); an expired token says so;
// an opaque token still counts as signed in, naming nobody.
func TestAccountClaimsHostile(t *testing.T) {
	jwt := func(claims string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	for _, s := range termtest.Samples {
		b, _ := json.Marshal(map[string]any{"email": s, "exp": time.Now().Add(time.Hour).Unix()})
		a := Account{Host: "h"}
		a.readToken(memTokens{"h": jwt(string(b))})
		if err := termtest.Check(a.Who, false); err != nil || strings.ContainsAny(a.Who, "\n\r") {
			t.Errorf("email %q shown as %q: %v", s, a.Who, err)
		}
	}
	a := Account{Host: "h"}
	a.readToken(memTokens{"h": jwt(`{"email":"old@example.com","exp":1}`)})
	if a.SignedIn() || accountText(a) != "session expired (was old@example.com)" {
		t.Errorf("expired: got %q (signed in %v)", accountText(a), a.SignedIn())
	}
	a = Account{Host: "h"}
	a.readToken(memTokens{"h": "opaque-token"})
	if !a.SignedIn() || strings.Contains(accountText(a), "opaque-token") {
		t.Errorf("opaque token: got %q (signed in %v); want signed in, the token not shown", accountText(a), a.SignedIn())
	}
}
