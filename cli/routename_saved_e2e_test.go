package cli_test

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestE2ERouteNamesUDPAndSaved: route names work for udp and for
// `connections add --route` with the real binary: a udp route by name
// carries datagrams, a saved connection made from a route name connects
// with no flags, an ambiguous name lists the candidates (issue 17 item 2).
func TestE2ERouteNamesUDPAndSaved(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	echo := testutil.StartUDPEcho(t)
	tcpEcho := startTCPEcho(t)
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"), testutil.WithConfig(`
routes:
  - from: udp+https://dns.internal:53
    to: udp://`+echo+`
    allowed_users: [dev@example.com]
  - from: tcp+https://db-primary.internal:5432
    name: db-primary
    to: tcp://`+tcpEcho+`
    allow_any_authenticated_user: true
  - from: tcp+https://db-replica.internal:5432
    name: db-replica
    to: tcp://127.0.0.1:1
    allow_any_authenticated_user: true
`))
	e := newEnv(t, ds)
	e.useCurl()
	server := ds.URL.String()
	if code, _, _ := e.runBin("login", server, "--alternate-ca-path", e.ca, "--browser-cmd", e.browser); code != 0 {
		t.Fatalf("login: exit %d", code)
	}

	// udp by name: a host-form route, dialled through the remembered server.
	_, stderr, done := startBinary(t, e, "udp", "dns", "--listen", "127.0.0.1:0")
	addr := testutil.WaitMatch(t, "udp dns stderr", stderr.String, listeningRE, done)[1]
	if !strings.Contains(stderr.String(), "Route dns: udp+https://dns.internal:53") {
		t.Errorf("udp dns stderr %q; want the route named with its from URL", stderr.String())
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	udpEcho(t, c, []byte("datagram by route name"))
	c.Close()

	// Ambiguous: one line listing the candidates; nothing saved.
	code, _, errOut := e.runBin("connections", "add", "--route", "db")
	if code != 1 || !strings.Contains(errOut, `route name "db" is ambiguous: db-primary (tcp+https://db-primary.internal:5432), db-replica (tcp+https://db-replica.internal:5432)`) ||
		!strings.Contains(errOut, "\nHint: see the routes you may use: pomerium-cli routes list "+server+"\n") {
		t.Errorf("add --route db: exit %d, %q; want 1 listing both candidates", code, errOut)
	}
	if code, _, errOut := e.runBin("connections", "add", "--route", "nosuch"); code != 1 || !strings.Contains(errOut, `no tcp or udp route named "nosuch"; tcp or udp routes: `) {
		t.Errorf("add --route nosuch: exit %d, %q; want 1 listing the routes", code, errOut)
	}
	if code, _, errOut := e.runBin("connections", "add", "--route", "echo", "--destination", "a:1"); code != 2 || !strings.Contains(errOut, "give one") {
		t.Errorf("add --route with --destination: exit %d, %q; want a usage error", code, errOut)
	}

	for _, name := range []string{"echo", "dns"} {
		code, out, errOut := e.runBin("connections", "add", "--route", name, "--tag", "work")
		if code != 0 || strings.TrimSpace(out) == "" || !strings.Contains(errOut, "Route "+name+": ") {
			t.Fatalf("add --route %s: exit %d, out %q, stderr %q; want 0 and the new id", name, code, out, errOut)
		}
	}
	if code, _, errOut := e.runBin("connections", "add", "--route", "echo"); code != 1 || !strings.Contains(errOut, "echo-2") {
		t.Errorf("add --route echo again: exit %d, %q; want the duplicate name refused with a rename suggestion", code, errOut)
	}
	code, out, _ := e.runBin("connections", "list", "-o", "json")
	var list []struct {
		Name        string `json:"name"`
		Destination string `json:"destination"`
		Protocol    string `json:"protocol"`
		PomeriumURL string `json:"pomerium_url"`
		TLS         struct {
			CAFile string `json:"ca_file"`
		} `json:"tls"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 {
		t.Fatalf("connections list -o json: exit %d, %v, %q; want two connections", code, err, out)
	}
	got := map[string]int{}
	for i, c := range list {
		got[c.Name] = i
	}
	ec, dc := list[got["echo"]], list[got["dns"]]
	if ec.Name != "echo" || ec.Destination != "tcp+https://"+ds.Addr+"/echo.internal:7000" || ec.Protocol != "" || ec.PomeriumURL != "" || ec.TLS.CAFile != e.ca || len(ec.Tags) != 1 {
		t.Errorf("echo = %+v; want the route's from URL, the server's CA and the tag", ec)
	}
	if dc.Name != "dns" || dc.Destination != "udp+https://dns.internal:53" || dc.Protocol != "udp" || dc.PomeriumURL != server || dc.TLS.CAFile != e.ca {
		t.Errorf("dns = %+v; want a udp connection through %s with its CA", dc, server)
	}

	// A host-form route's connect command, pasted as routes list shows it
	// (args split, no shell): db-primary.internal resolves nowhere, the
	// remembered server that listed it is the proxy, its CA is remembered.
	code, out, _ = e.runBin("routes", "list", "-o", "json")
	words := connectWords(t, code, out, "db-primary")
	if len(words) != 3 || words[0] != "pomerium-cli" || words[2] != "db-primary.internal:5432" {
		t.Fatalf("db-primary's connect_command = %q; want pomerium-cli tcp db-primary.internal:5432", words)
	}
	_, stderr, done = startBinary(t, e, append(words[1:], "--listen", "127.0.0.1:0")...)
	m := testutil.WaitMatch(t, "pasted host-form command", stderr.String, listeningRE, done)
	if !strings.Contains(stderr.String(), "Route db-primary: tcp+https://db-primary.internal:5432 (through "+server+")") {
		t.Errorf("stderr %q; want the route and the server it goes through", stderr.String())
	}
	if got := roundTrip(t, m[1], []byte("pasted host form")); string(got) != "pasted host form" {
		t.Fatalf("echo through the pasted command = %q", got)
	}

	// The saved connection works as saved: no TLS flags, no server.
	_, stderr, done = startBinary(t, e, "connections", "connect", "echo", "--listen", "127.0.0.1:0")
	m = testutil.WaitMatch(t, "connect stderr", stderr.String, regexp.MustCompile(`echo: listening on (127\.0\.0\.1:\d+)`), done)
	msg := []byte(strings.Repeat("saved by route name ", 500))
	if got := roundTrip(t, m[1], msg); string(got) != string(msg) {
		t.Fatalf("echo through the saved connection returned %d bytes; want the %d sent", len(got), len(msg))
	}
	// A connection saved by hand with no TLS settings of its own dials
	// its proxy with the remembered server's CA.
	if code, _, errOut := e.runBin("connections", "add", "--name", "by-hand", "--destination", "tcp+https://"+ds.Addr+"/echo.internal:7000"); code != 0 {
		t.Fatalf("add by hand: exit %d, %q", code, errOut)
	}
	_, stderr, done = startBinary(t, e, "connections", "connect", "by-hand", "--listen", "127.0.0.1:0")
	m = testutil.WaitMatch(t, "connect by-hand stderr", stderr.String, regexp.MustCompile(`by-hand: listening on (127\.0\.0\.1:\d+)`), done)
	if got := roundTrip(t, m[1], []byte("profile CA")); string(got) != "profile CA" {
		t.Fatalf("echo through by-hand = %q", got)
	}
	if n := e.browserRuns(); n != 1 {
		t.Errorf("browser ran %d times; want 1 (the login)", n)
	}
}
