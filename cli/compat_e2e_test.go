package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// runBinary runs the real pomerium-cli binary to completion.
func runBinary(t *testing.T, e *env, args ...string) (int, string, string) {
	t.Helper()
	bin := testutil.BuildBinary(t, "pomerium-cli")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = e.binEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running pomerium-cli: %v", err)
	}
	t.Logf("pomerium-cli %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errOut.String())
	return code, out.String(), errOut.String()
}

// TestE2EStaleTokenAfterRestart: after a server restart the cached token
// is stale. `auth` notices through /healthz and signs in again instead of
// printing it, and a tunnel's first connection gets a 302 (not a 401),
// signs in and goes through: no connection is lost.
func TestE2EStaleTokenAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	url := ds.URL.String()

	code, out, _ := runBinary(t, e, e.args("auth", url)...)
	tok1 := strings.TrimSpace(out)
	if code != 0 || !jwtRE.MatchString(tok1) {
		t.Fatalf("auth: exit %d, stdout %q; want a JWT", code, out)
	}
	ds.Restart(t)
	code, out, _ = runBinary(t, e, e.args("auth", url)...)
	tok2 := strings.TrimSpace(out)
	if code != 0 || !jwtRE.MatchString(tok2) || tok2 == tok1 {
		t.Fatalf("auth after restart: exit %d; want 0 and a new JWT (the old one is stale)", code)
	}
	if got := e.browserRuns(); got != 2 {
		t.Errorf("browser ran %d times; want 2 (the stale token was replaced)", got)
	}

	ds.Restart(t)
	var stderr testutil.SyncBuffer
	bin := testutil.BuildBinary(t, "pomerium-cli")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, e.args("tcp", echoDest(ds), "--listen", "-")...)
	cmd.Env = e.binEnv()
	cmd.Stdin = strings.NewReader("first connection after a restart")
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil || string(got) != "first connection after a restart" {
		t.Fatalf("tcp after restart: %v, stdout %q; want the echo on the first connection\nstderr: %s", err, got, stderr.String())
	}
	if got := e.browserRuns(); got != 3 {
		t.Errorf("browser ran %d times; want 3 (one sign-in for the stale token)", got)
	}
}

// TestE2EUnreachableUpstreamKeepsToken: a route whose upstream is down
// answers 503; the CLI reports it and the cached token survives, so the
// next command needs no sign-in.
func TestE2EUnreachableUpstreamKeepsToken(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	closed := testutil.RefusedAddr(t)
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: tcp+https://down.internal:5432
    to: tcp://`+closed+`
    allow_any_authenticated_user: true
`))
	e := newEnv(t, ds)
	e.useCurl()
	if code, _, _ := runBinary(t, e, e.args("login", ds.URL.String())...); code != 0 {
		t.Fatalf("login: exit %d", code)
	}
	code, _, stderr := runBinary(t, e, e.args("tcp", "tcp+https://"+ds.Addr+"/down.internal:5432", "--listen", "-")...)
	if code == 0 || !strings.Contains(stderr, "503") {
		t.Fatalf("tcp to a down upstream: exit %d, stderr %q; want a failure naming the 503", code, stderr)
	}
	code, out, _ := runBinary(t, e, e.args("routes", "list", ds.URL.String(), "-o", "json")...)
	if code != 0 || !strings.Contains(out, "down.internal") {
		t.Fatalf("routes list after the 503: exit %d; want the routes", code)
	}
	if got := e.browserRuns(); got != 1 {
		t.Errorf("browser ran %d times; want 1 (the token survived the 503)", got)
	}
}

// execCredential is the ExecCredential schema
// (client.authentication.k8s.io/v1): unknown fields fail the decode.
type execCredential struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Status     struct {
		ExpirationTimestamp string `json:"expirationTimestamp"`
		Token               string `json:"token"`
	} `json:"status"`
}

// routeClient reaches http routes like verify.localhost:PORT by dialing
// the dev server's loopback address, trusting its CA.
func routeClient(ds *testutil.DevServer) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ds.CAPool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ds.Addr)
		},
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestE2EK8sAndCache: `k8s exec-credential` prints an ExecCredential
// whose token the server accepts as a bearer token on an http route;
// flush-credentials and `cache clear` drop tokens; `cache location`
// prints the cache directory.
func TestE2EK8sAndCache(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	url := ds.URL.String()

	code, out, _ := runBinary(t, e, e.args("k8s", "exec-credential", url)...)
	if code != 0 {
		t.Fatalf("k8s exec-credential: exit %d", code)
	}
	var cred execCredential
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cred); err != nil {
		t.Fatalf("ExecCredential does not match the schema: %v\n%s", err, out)
	}
	if cred.APIVersion != "client.authentication.k8s.io/v1" || cred.Kind != "ExecCredential" {
		t.Errorf("apiVersion/kind = %q/%q; want client.authentication.k8s.io/v1 ExecCredential", cred.APIVersion, cred.Kind)
	}
	exp, err := time.Parse(time.RFC3339, cred.Status.ExpirationTimestamp)
	if err != nil || !exp.After(time.Now()) {
		t.Errorf("expirationTimestamp %q: %v; want RFC 3339 in the future", cred.Status.ExpirationTimestamp, err)
	}
	jwt, ok := strings.CutPrefix(cred.Status.Token, "Pomerium-")
	if !ok || !jwtRE.MatchString(jwt) {
		t.Fatalf("token does not look like Pomerium-<jwt>")
	}
	// kubectl sends it as a bearer token.
	req, _ := http.NewRequest(http.MethodGet, "https://verify.localhost:"+ds.URL.Port()+"/", nil)
	req.Header.Set("Authorization", "Bearer "+cred.Status.Token)
	resp, err := routeClient(ds).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("verify route with the ExecCredential's bearer token: got %d; want 200", resp.StatusCode)
	}
	// kubectl asking for v1beta1 gets it.
	e.extraEnv = map[string]string{"KUBERNETES_EXEC_INFO": `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}`}
	code, out, _ = runBinary(t, e, e.args("k8s", "exec-credential", url)...)
	if code != 0 || !strings.Contains(out, `"apiVersion":"client.authentication.k8s.io/v1beta1"`) {
		t.Errorf("exec-credential for v1beta1: exit %d; want that apiVersion back", code)
	}
	e.extraEnv = nil
	if got := e.browserRuns(); got != 1 {
		t.Errorf("browser ran %d times; want 1 (the second call used the cached token)", got)
	}

	code, _, stderr := runBinary(t, e, "k8s", "flush-credentials", url)
	if code != 0 || e.cacheHolds(jwt) {
		t.Fatalf("flush-credentials: exit %d, token still cached %v; want 0 and gone\n%s", code, e.cacheHolds(jwt), stderr)
	}

	code, out, stderr = runBinary(t, e, "cache", "location")
	if code != 0 || strings.TrimSpace(out) != e.cache+"/pomerium-cli" || !strings.Contains(stderr, "0600 files") {
		t.Errorf("cache location: exit %d, stdout %q, stderr %q; want %s and where tokens are kept", code, out, stderr, e.cache+"/pomerium-cli")
	}
	if code, _, _ := runBinary(t, e, e.args("login", url)...); code != 0 {
		t.Fatalf("login: exit %d", code)
	}
	if len(e.tokenFiles()) == 0 {
		t.Fatal("no token file after login")
	}
	code, _, stderr = runBinary(t, e, "cache", "clear")
	if code != 0 || !strings.Contains(stderr, "Cleared 1 cached token") {
		t.Errorf("cache clear: exit %d, stderr %q; want 1 token cleared", code, stderr)
	}
	for p := range e.tokenFiles() {
		if strings.HasSuffix(p, ".jwt") {
			t.Errorf("token file %s left after cache clear", p)
		}
	}
}

// TestE2EProxyTwoRoutes: `pomerium-cli proxy` carries CONNECTs for two
// different routes through one local port, and refuses a name outside
// --proxy-domain (never an open proxy).
func TestE2EProxyTwoRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	_, stderr, done := startBinary(t, e, e.args("proxy", "--listen", "127.0.0.1:0", "--pomerium-url", ds.URL.String(), "--proxy-domain", "internal")...)
	addr := testutil.WaitMatch(t, "proxy stderr", stderr.String, listeningRE, done)[1]
	connect := func(target string) (int, net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(2 * time.Minute))
		io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatalf("CONNECT %s through the local proxy: %v", target, err)
		}
		return resp.StatusCode, c, br
	}
	for _, target := range []string{"echo.internal:7000", "admin-echo.internal:7001"} {
		code, c, br := connect(target)
		if code != http.StatusOK {
			t.Fatalf("CONNECT %s: got %d; want 200", target, code)
		}
		msg := "hello " + target
		io.WriteString(c, msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
			t.Fatalf("echo through %s: got %q, %v; want %q", target, got, err, msg)
		}
	}
	if code, _, _ := connect("example.com:443"); code != http.StatusForbidden {
		t.Errorf("CONNECT outside --proxy-domain: got %d; want 403", code)
	}
	if got := e.browserRuns(); got != 1 {
		t.Errorf("browser ran %d times for two routes; want 1", got)
	}
	testutil.WaitMatch(t, "proxy stderr", stderr.String, regexp.MustCompile(`connected to admin-echo\.internal:7001`), done)
}

// TestE2ERoutesListPipedGolden: `routes list` with stdout a pipe prints
// the real pomerium-cli's block format (testdata/routes_list_dev.golden,
// the dev server's routes with its address replaced by PROXY and ids,
// which hash the address, by ID).
func TestE2ERoutesListPipedGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.useCurl()
	code, out, _ := runBinary(t, e, e.args("routes", "list", ds.URL.String())...)
	if code != 0 {
		t.Fatalf("routes list: exit %d", code)
	}
	got := strings.ReplaceAll(out, ds.Addr, "PROXY")
	got = strings.ReplaceAll(got, ":"+ds.URL.Port(), ":PORT")
	// Ids hash the route, whose from holds the random address.
	got = regexp.MustCompile(`(?m)^id: [0-9a-f]{16}$`).ReplaceAllString(got, "id: ID")
	want, err := os.ReadFile("testdata/routes_list_dev.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("piped routes list:\n%s\nwant (testdata/routes_list_dev.golden):\n%s", got, want)
	}
}

// startTCPEcho is a loopback TCP server echoing every byte.
func startTCPEcho(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return l.Addr().String()
}

// TestE2EHostFormRoutesFromPortal: host-form routes (whose host is only a
// routing key) imported from a portal record the portal as their
// pomerium_url, a udp route stays udp, and both saved connections reach
// their upstream through the proxy the portal came from.
func TestE2EHostFormRoutesFromPortal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	tcpEcho, udpEchoAddr := startTCPEcho(t), testutil.StartUDPEcho(t)
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: tcp+https://db.internal:5432
    to: tcp://`+tcpEcho+`
    allow_any_authenticated_user: true
  - from: udp+https://dns.internal:53
    to: udp://`+udpEchoAddr+`
    allow_any_authenticated_user: true
`))
	e := newEnv(t, ds)
	e.useCurl()
	store := e.dir + "/connections.json"
	e.extraEnv = map[string]string{"POMERIUM_CLI_CONNECTIONS": store}
	if code, _, stderr := runBinary(t, e, e.args("connections", "import", "--portal", ds.URL.String(), "--yes")...); code != 0 {
		t.Fatalf("import --portal: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Connections []struct {
			Name, Destination, Protocol string
			PomeriumURL                 string `json:"pomerium_url"`
		}
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, c := range file.Connections {
		switch c.Destination {
		case "tcp+https://db.internal:5432", "udp+https://dns.internal:53":
			found++
			if c.PomeriumURL != ds.URL.String() {
				t.Errorf("%s: pomerium_url %q; want the portal %s", c.Name, c.PomeriumURL, ds.URL)
			}
			if udp := c.Protocol == "udp"; udp != strings.HasPrefix(c.Destination, "udp+") {
				t.Errorf("%s: protocol %q for %s", c.Name, c.Protocol, c.Destination)
			}
		}
	}
	if found != 2 {
		t.Fatalf("imported connections %s; want db and dns", b)
	}
	connRE := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

	_, stderr, done := startBinary(t, e, e.args("connections", "connect", "db", "--listen", "127.0.0.1:0")...)
	addr := testutil.WaitMatch(t, "connect stderr", stderr.String, connRE, done)[1]
	if got := roundTrip(t, addr, []byte("through the portal's proxy")); string(got) != "through the portal's proxy" {
		t.Errorf("echo through the host-form connection: %q", got)
	}

	_, stderr, done = startBinary(t, e, e.args("connections", "connect", "dns", "--listen", "127.0.0.1:0")...)
	addr = testutil.WaitMatch(t, "connect stderr", stderr.String, connRE, done)[1]
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	udpEcho(t, c, []byte("a udp datagram"))
	if got := e.browserRuns(); got != 1 {
		t.Errorf("browser ran %d times; want 1", got)
	}
}
