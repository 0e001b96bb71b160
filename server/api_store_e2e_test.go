package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
	"github.com/porthole-dev/porthole/server/servercmd"
)

// createEchoRoute makes a policy for dev@example.com and a tcp route
// NAME.internal:PORT to echoTo ("": the dev echo upstream), through the API.
func createEchoRoute(t *testing.T, z *zero, d *testutil.DevServer, authority, echoTo string) string {
	t.Helper()
	org, ns := guideLogin(t, z, d)
	if echoTo == "" {
		echoTo = echoUpstream(t, z, org)
	}
	var pol, rt map[string]any
	z.do("POST", "/organizations/"+org+"/policies", map[string]any{"namespaceId": ns, "name": "dev " + authority, "enforced": false,
		"ppl":         map[string]any{"allow": map[string]any{"or": []any{map[string]any{"email": map[string]any{"is": "dev@example.com"}}}}},
		"description": "", "explanation": "", "remediation": ""}, 201, &pol)
	z.do("POST", "/organizations/"+org+"/routes", map[string]any{"namespaceId": ns, "name": authority,
		"from": "tcp+https://" + d.Addr + "/" + authority, "to": []string{echoTo}, "policyIds": []any{pol["id"]}}, 201, &rt)
	return rt["id"].(string)
}

// echoesThrough checks that a CONNECT to authority carries bytes.
func echoesThrough(t *testing.T, d *testutil.DevServer, authority, tok string) {
	t.Helper()
	resp, conn, br := connectH1(t, d, authority, tok)
	defer conn.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT %s: %d; want 200", authority, resp.StatusCode)
	}
	msg := randomBytes(t, 2048)
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through %s: %v (%d bytes)", authority, err, len(got))
	}
}

// TestAPIReplicasOnPostgres: two servers on one PostgreSQL database; a
// route created through replica A is served by replica B, and its
// deletion too. (How soon is logged, not asserted: a loaded machine is
// no measure of speed.)
func TestAPIReplicasOnPostgres(t *testing.T) {
	c := pgtest.Start(t)
	dsn := c.NewDatabase(t)
	// Replicas share shared_secret (the store's key) and the database.
	yml := "shared_secret: " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)) +
		"\ndatabroker_storage_type: postgres\ndatabroker_storage_connection_string: " + dsn + "\n"
	a := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(yml))
	b := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(yml))
	tokB := loginToken(t, b)
	// Both replicas' dev samples use the same path-form names, so the
	// route names the authority only once: it is served on either address.
	rid := createEchoRoute(t, newZero(t, a), a, "replicated.internal:7200", "")
	took := within(t, 2*time.Minute, "route created on A in B's portal", func() bool { return portalHas(t, b, tokB, "replicated.internal:7200") })
	t.Logf("route created on A served by B after %v", took)
	echoesThrough(t, b, "replicated.internal:7200", tokB)

	// B's API sees it too (with B's own API user, from the shared store).
	zb := newZero(t, b)
	org, _ := guideLogin(t, zb, b)
	var got map[string]any
	zb.do("GET", "/organizations/"+org+"/routes/"+rid, nil, 200, &got)
	// The cluster is both replicas, from their heartbeats in the store.
	within(t, 2*time.Minute, "both replicas in the cluster view", func() bool {
		var reps []map[string]any
		zb.do("GET", "/organizations/"+org+"/clusters/default/replicas", nil, 200, &reps)
		addrs := map[any]bool{}
		for _, r := range reps {
			if r["healthy"] == true {
				addrs[r["address"]] = true
			}
		}
		return addrs[a.Addr] && addrs[b.Addr]
	})
	za := newZero(t, a)
	guideLogin(t, za, a)
	za.do("DELETE", "/organizations/"+org+"/routes/"+rid, nil, 204, nil)
	within(t, 2*time.Minute, "route deleted on A gone from B", func() bool { return !portalHas(t, b, tokB, "replicated.internal:7200") })
}

// TestAPIPersistsAcrossRestart runs the real binary with --dev (the
// embedded file store in the dev dir): a route made through the API is
// still served after a restart, and the API user token file still works.
func TestAPIPersistsAcrossRestart(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-server")
	dir := t.TempDir()
	start := func(addr string) (*testutil.DevServer, func()) {
		cmd := exec.Command(bin, "--dev", "--dev-dir", dir, "--address", addr, "--dev-auto-login", "dev@example.com")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var log testutil.SyncBuffer
		go io.Copy(&log, bufio.NewReader(stderr))
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		m := testutil.WaitMatch(t, "server banner", log.String, regexp.MustCompile(`listening on https://(127\.0\.0\.1:\d+)[\s\S]*API user token: (\S+)`), done)
		if m[2] != filepath.Join(dir, "api-user-token") {
			t.Errorf("banner names the token file %s; want %s", m[2], filepath.Join(dir, "api-user-token"))
		}
		ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: m[1]}, Addr: m[1], Dir: dir, CAFile: filepath.Join(dir, "ca.pem"), CAPool: pool}
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("server did not stop within 60s of SIGTERM:\n%s", log.String())
			}
		}
		t.Cleanup(func() { cmd.Process.Kill(); <-done })
		return d, stop
	}
	d, stop := start("127.0.0.1:0")
	tokenBefore, err := os.ReadFile(filepath.Join(dir, "api-user-token"))
	if err != nil {
		t.Fatal(err)
	}
	// An upstream of the test's own: the dev samples move on a restart.
	createEchoRoute(t, newZero(t, d), d, "kept.internal:7300", "tcp://"+echoListener(t))
	echoesThrough(t, d, "kept.internal:7300", loginToken(t, d))
	stop()

	// Same port: the route's from names the address.
	d, stop = start(d.Addr)
	defer stop()
	tokenAfter, err := os.ReadFile(filepath.Join(dir, "api-user-token"))
	if err != nil || !bytes.Equal(tokenAfter, tokenBefore) {
		t.Errorf("api-user-token changed across the restart (%v); want it kept while its user exists", err)
	}
	tok := loginToken(t, d)
	if !portalHas(t, d, tok, "kept.internal:7300") {
		t.Fatal("the API's route is gone after a restart")
	}
	echoesThrough(t, d, "kept.internal:7300", tok)
}

// TestAPIUserCreateCommand: a token printed by `pomerium-server api-user
// create --config FILE NAME` is accepted by a server on that config's
// store, and its answer carries only the token.
func TestAPIUserCreateCommand(t *testing.T) {
	dataDir := t.TempDir()
	yml := "data_dir: " + dataDir + "\n"
	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := servercmd.Run(context.Background(), servercmd.NewFactory(nil, &out, &errOut), []string{"api-user", "create", "--config", cfgFile, "ci"}); code != 0 {
		t.Fatalf("api-user create: exit %d: %s", code, errOut.String())
	}
	tok := strings.TrimSuffix(out.String(), "\n")
	if strings.Count(out.String(), "\n") != 1 || errOut.Len() != 0 {
		t.Errorf("stdout %q, stderr %q; want the token line only", out.String(), errOut.String())
	}
	d := testutil.StartDevServer(t, testutil.WithConfig(yml))
	z := newZero(t, d)
	var got struct{ IDToken string }
	z.do("POST", "/token", map[string]string{"refreshToken": tok}, 200, &got)
	z.auth = "Bearer " + got.IDToken
	var users []map[string]any
	z.do("GET", "/organizations/default/users", nil, 200, &users)
	names := map[any]bool{}
	for _, u := range users {
		names[u["displayName"]] = true
	}
	if !names["ci"] {
		t.Errorf("API users %v; want ci among them", users)
	}
}
