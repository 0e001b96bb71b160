package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// zero is an HTTP client of the management API, as a script following
// the Zero API guide would be.
type zero struct {
	t    *testing.T
	c    *http.Client
	base string // https://ADDR/api/v0
	auth string // Authorization value
}

func newZero(t *testing.T, d *testutil.DevServer) *zero {
	return &zero{t: t, c: apiClient(t, d), base: d.URL.String() + "/api/v0"}
}

// do sends body as JSON and decodes the answer into out; the status must
// be want.
func (z *zero) do(method, path string, body any, want int, out any) {
	z.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			z.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, z.base+path, rd)
	if err != nil {
		z.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if z.auth != "" {
		req.Header.Set("Authorization", z.auth)
	}
	resp, err := z.c.Do(req)
	if err != nil {
		z.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		z.t.Fatalf("%s %s: status %d; want %d; body %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			z.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// guideLogin runs the guide's step 1 with the --dev token file and
// returns the organization and namespace ids.
func guideLogin(t *testing.T, z *zero, d *testutil.DevServer) (org, ns string) {
	t.Helper()
	path := filepath.Join(d.Dir, "api-user-token")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("--dev should write %s: %v", path, err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v; want 0600", path, st.Mode().Perm())
	}
	refresh, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ IDToken, ExpiresInSeconds string }
	z.auth = ""
	z.do("POST", "/token", map[string]string{"refreshToken": strings.TrimSpace(string(refresh))}, 200, &tok)
	if tok.IDToken == "" || tok.ExpiresInSeconds != "3600" {
		t.Fatalf("token answer %+v; want an idToken valid 3600s", tok)
	}
	z.auth = "Bearer " + tok.IDToken
	var orgs []map[string]any
	z.do("GET", "/organizations", nil, 200, &orgs)
	org = orgs[0]["id"].(string)
	var clusters []map[string]any
	z.do("GET", "/organizations/"+org+"/clusters", nil, 200, &clusters)
	ns = clusters[0]["namespaceId"].(string)
	// The guide sends the bare token for its policy call; keep doing so.
	z.auth = tok.IDToken
	return org, ns
}

// echoUpstream reads the dev echo route's upstream from the API's
// (read-only) view of the config's routes.
func echoUpstream(t *testing.T, z *zero, org string) string {
	t.Helper()
	var routes []map[string]any
	z.do("GET", "/organizations/"+org+"/routes", nil, 200, &routes)
	for _, r := range routes {
		if r["name"] == "echo" {
			if r["readOnly"] != true {
				t.Errorf("the dev echo route is not shown read-only: %v", r)
			}
			return r["to"].([]any)[0].(string)
		}
	}
	t.Fatalf("no echo route among %v", routes)
	return ""
}

// portalHas reports whether the signed-in user's portal JSON lists name.
func portalHas(t *testing.T, d *testutil.DevServer, tok, name string) bool {
	t.Helper()
	resp, body := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Authorization": "Pomerium " + tok})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("portal JSON: %d %s", resp.StatusCode, body)
	}
	for _, n := range routeNames(t, body) {
		if n == name {
			return true
		}
	}
	return false
}

// within polls cond until it holds, failing after d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		<-tick.C
	}
	return time.Since(start)
}

// connectStatus is the status of a CONNECT to authority as tok.
func connectStatus(t *testing.T, d *testutil.DevServer, authority, tok string) int {
	t.Helper()
	resp, conn, _ := connectH1(t, d, authority, tok)
	conn.Close()
	return resp.StatusCode
}

// TestAPIGuideEndToEnd follows the Zero API guide against a --dev server:
// token exchange, organization, cluster, a policy, a tcp route on the
// server's own address; the route shows in the portal and carries bytes
// through pomerium-cli tcp with no restart; update and delete apply live.
func TestAPIGuideEndToEnd(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	z := newZero(t, d)
	org, ns := guideLogin(t, z, d)
	echoTo := echoUpstream(t, z, org)

	var pol map[string]any
	z.do("POST", "/organizations/"+org+"/policies", map[string]any{
		"namespaceId": ns, "name": "Allow only matching email", "enforced": false,
		"ppl":         map[string]any{"allow": map[string]any{"and": []any{map[string]any{"email": map[string]any{"is": "dev@example.com"}}}}},
		"description": "Only allow users access with a matching email address.",
		"explanation": "You don't have the correct email address to access this service.",
		"remediation": "Use account credentials that match policy requirements.",
	}, 201, &pol)
	var rt map[string]any
	from := "tcp+https://" + d.Addr + "/api-echo.internal:7100"
	z.do("POST", "/organizations/"+org+"/routes", map[string]any{
		"namespaceId": ns, "name": "api-echo", "from": from, "to": []string{echoTo}, "policyIds": []any{pol["id"]},
	}, 201, &rt)
	rid := rt["id"].(string)

	tok := loginToken(t, d)
	if !portalHas(t, d, tok, "api-echo") {
		t.Fatal("the route made through the API is not in the signed-in user's portal JSON")
	}
	// Admins may call the API with their session; other users may not.
	admin := &zero{t: t, c: z.c, base: z.base, auth: "Pomerium " + tok}
	admin.do("GET", "/organizations/"+org+"/routes/"+rid, nil, 200, nil)
	guest := &zero{t: t, c: z.c, base: z.base, auth: "Pomerium " + issue(t, d.Server(), "guest@example.com", time.Hour)}
	guest.do("GET", "/organizations/"+org+"/routes/"+rid, nil, 403, nil)
	if !portalHas(t, d, tok, "api-echo") {
		t.Fatal("the route made through the API is not in the signed-in user's portal JSON")
	}

	t.Run("pomerium-cli tcp", func(t *testing.T) {
		bin := testutil.BuildBinary(t, "pomerium-cli")
		curl := testutil.Require(t, "curl")
		dir := t.TempDir()
		browserCmd := filepath.Join(dir, "browser")
		if err := os.WriteFile(browserCmd, []byte("#!/usr/bin/env bash\nurl=\"${@: -1}\"\nexec '"+curl+"' -sS -L --max-time 120 --cacert '"+d.CAFile+
			"' -c '"+dir+"/jar' -b '"+dir+"/jar' -o /dev/null \"$url\"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "tcp", from, "--listen", "127.0.0.1:0", "--alternate-ca-path", d.CAFile, "--browser-cmd", browserCmd)
		cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config", "XDG_CACHE_HOME=" + dir + "/cache",
			"POMERIUM_CLI_NO_KEYRING=1", "PATH=" + os.Getenv("PATH")}
		var stderr testutil.SyncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		defer func() { cmd.Process.Kill(); <-done }()
		addr := testutil.WaitMatch(t, "pomerium-cli tcp", stderr.String, regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+)`), done)[1]
		msg := randomBytes(t, 4096)
		if got := roundTripTCP(t, addr, msg); !bytes.Equal(got, msg) {
			t.Errorf("bytes through the API's route came back different (%d of %d)", len(got), len(msg))
		}
	})

	// Update: the policy now allows someone else; dev is refused at once.
	if code := connectStatus(t, d, "api-echo.internal:7100", tok); code != http.StatusOK {
		t.Fatalf("CONNECT before the update: %d; want 200", code)
	}
	pol["ppl"] = map[string]any{"allow": map[string]any{"and": []any{map[string]any{"email": map[string]any{"is": "someone@example.com"}}}}}
	for _, k := range []string{"id", "createdAt", "updatedAt", "routes", "enforcedRoutes"} {
		delete(pol, k)
	}
	z.do("PUT", "/organizations/"+org+"/policies/"+rt["policyIds"].([]any)[0].(string), pol, 200, nil)
	if code := connectStatus(t, d, "api-echo.internal:7100", tok); code != http.StatusForbidden {
		t.Errorf("CONNECT right after the policy update: %d; want 403", code)
	}

	// Delete: the route is gone from the portal and the proxy at once.
	z.do("DELETE", "/organizations/"+org+"/routes/"+rid, nil, 204, nil)
	if portalHas(t, d, tok, "api-echo") {
		t.Error("deleted route still in the portal")
	}
	if code := connectStatus(t, d, "api-echo.internal:7100", tok); code == http.StatusOK || code == http.StatusForbidden {
		t.Errorf("CONNECT after delete: %d; want no route", code)
	}

	var logs []map[string]any
	z.do("GET", "/organizations/"+org+"/activityLogs?entityId="+rid, nil, 200, &logs)
	if len(logs) != 2 || logs[0]["activityType"] != "delete" || logs[1]["activityType"] != "create" {
		t.Errorf("activity for the route = %v; want its delete and its create, newest first", logs)
	}
	z.do("GET", "/organizations/"+org+"/activityLogs?entityType=policy&activityType=update", nil, 200, &logs)
	if len(logs) != 1 || logs[0]["entityType"] != "policy" {
		t.Errorf("policy update entries = %v; want one", logs)
	}
}

func roundTripTCP(t *testing.T, addr string, msg []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	return got
}
