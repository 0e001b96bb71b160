package server_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
)

// TestSessionsAcrossReplicasOnPostgres: two replicas share one
// PostgreSQL database and the secrets. A browser signs in on A (cookies
// are per host name, not port, so the same cookie reaches B, as behind
// one load-balanced name) and a CLI token is made on A; signing out on B
// ends both on A.
func TestSessionsAcrossReplicasOnPostgres(t *testing.T) {
	c := pgtest.Start(t)
	dsn := c.NewDatabase(t)
	secret := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	yml := "shared_secret: " + secret(5) + "\ncookie_secret: " + secret(6) +
		"\ndatabroker_storage_type: postgres\ndatabroker_storage_connection_string: " + dsn + "\n"
	a := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(yml))
	b := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(yml))

	// One browser trusting both replicas' dev CAs.
	br := browser(t, a)
	pool := x509.NewCertPool()
	for _, d := range []*testutil.DevServer{a, b} {
		pem, err := os.ReadFile(d.CAFile)
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("reading %s: %v", d.CAFile, err)
		}
	}
	br.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
	tok := loginTokenWith(t, a, br)
	if resp, _ := get(t, br, a.URL.String()+"/.pomerium/routes", nil); resp.StatusCode != http.StatusOK || resp.Request.URL.Host != a.Addr {
		t.Fatalf("portal on A: got %d at %s; want 200", resp.StatusCode, resp.Request.URL)
	}
	noFollow := *br
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	api := func(d *testutil.DevServer) int {
		resp, _ := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Authorization": "Pomerium " + tok})
		return resp.StatusCode
	}
	// B knows the session A made (from the shared store).
	within(t, 2*time.Minute, "A's session on B", func() bool {
		resp, _ := get(t, &noFollow, b.URL.String()+"/.pomerium/routes", nil)
		return resp.StatusCode == http.StatusOK && api(b) == http.StatusOK
	})

	var cookie string
	for _, ck := range br.Jar.Cookies(a.URL) {
		if ck.Name == "_pomerium" {
			cookie = ck.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie after signing in on A")
	}
	onA := func() int {
		resp, _ := get(t, apiClient(t, a), a.URL.String()+"/.pomerium/routes", map[string]string{"Cookie": "_pomerium=" + cookie})
		return resp.StatusCode
	}
	if got := onA(); got != http.StatusOK {
		t.Fatalf("A's cookie on A: got %d; want 200", got)
	}
	resp, err := br.Post(b.URL.String()+"/.pomerium/sign_out", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// (Each dev replica runs its own built-in provider, so B's refuses the
	// id_token_hint A's signed; with one real provider both agree.)
	// B cleared the browser's cookie; the old one is presented to A as a
	// browser on another replica's name would still hold it.
	took := within(t, 2*time.Minute, "signed out on B, refused on A", func() bool {
		return api(a) == http.StatusUnauthorized && onA() == http.StatusFound
	})
	t.Logf("A refused the cookie and the CLI token %v after the sign-out on B", took)
}
