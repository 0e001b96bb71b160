package server_test

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// scrape reads /metrics into name{labels} -> value.
func scrape(t *testing.T, addr, user, pass string) (int, map[string]float64) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return resp.StatusCode, out
}

// TestMetrics scrapes /metrics (behind metrics_basic_auth) before and
// after traffic: requests by route and status class, latency, tunnels
// and their bytes, sign-in failures, reloads.
func TestMetrics(t *testing.T) {
	a, _ := upstream(t, echoHandler("a"), nil)
	echo := echoListener(t)
	routes := "routes:\n  - from: https://web.localhost\n    name: web\n    to: http://" + a + "\n    allow_public_unauthenticated_access: true\n" +
		"  - from: tcp+https://db.internal:5432\n    name: db\n    to: tcp://" + echo + "\n    allow_any_authenticated_user: true\n"
	// metrics:s3cret
	e := startRoutes(t, "metrics_address: 127.0.0.1:0\nmetrics_basic_auth: "+b64([]byte("metrics:s3cret"))+"\n"+routes)
	var addr string
	pollUntil(t, 2*time.Minute, func() string {
		if addr = e.srv.MetricsAddr(); addr == "" {
			return "no metrics listener"
		}
		return ""
	})
	if code, _ := scrape(t, addr, "", ""); code != http.StatusUnauthorized {
		t.Errorf("without basic auth: got %d; want 401", code)
	}
	if code, _ := scrape(t, addr, "metrics", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: got %d; want 401", code)
	}
	code, before := scrape(t, addr, "metrics", "s3cret")
	if code != 200 {
		t.Fatalf("scrape: got %d; want 200", code)
	}
	if before[`porthole_config_routes`] != 2 {
		t.Errorf("porthole_config_routes: got %v; want 2", before[`porthole_config_routes`])
	}

	for i := 0; i < 3; i++ {
		e.do(e.client, "GET", e.url("web.localhost", "/"), nil)
	}
	e.do(e.client, "GET", e.url("localhost", "/oauth2/callback?state=x&code=y"), nil) // no state cookie: a failure
	d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: e.addr}, Addr: e.addr, CAPool: e.pki.pool()}
	resp, conn, br := connectH1(t, d, "db.internal:5432", e.token("dev@example.com"))
	if resp.StatusCode != 200 {
		t.Fatalf("tunnel: got %d", resp.StatusCode)
	}
	io.WriteString(conn, "0123456789")
	buf := make([]byte, 10)
	io.ReadFull(br, buf)
	_, during := scrape(t, addr, "metrics", "s3cret")
	if during[`porthole_tunnel_connections_active{route="db"}`] != 1 {
		t.Errorf("active tunnels while open: got %v; want 1", during[`porthole_tunnel_connections_active{route="db"}`])
	}
	conn.Close()
	// A reload through the file.
	data, _ := os.ReadFile(e.file)
	if err := os.WriteFile(e.file, append(data, []byte("  - from: https://new.localhost\n    to: http://"+a+"\n    allow_public_unauthenticated_access: true\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 2*time.Minute, func() string {
		_, after := scrape(t, addr, "metrics", "s3cret")
		for name, want := range map[string]float64{
			`porthole_proxy_requests_total{code="2xx",route="web"}`:      3,
			`porthole_proxy_request_duration_seconds_count{route="web"}`: 3,
			`porthole_tunnel_connections_total{route="db"}`:              1,
			`porthole_tunnel_connections_active{route="db"}`:             0,
			`porthole_tunnel_bytes_total{direction="in",route="db"}`:     10,
			`porthole_tunnel_bytes_total{direction="out",route="db"}`:    10,
			`porthole_auth_sign_in_failures_total`:                       1,
			`porthole_config_reloads_total`:                              1,
			`porthole_config_routes`:                                     3,
			`porthole_config_last_reload_success`:                        1,
		} {
			if got := after[name] - before[name]*boolF(name != `porthole_config_routes` && name != `porthole_config_last_reload_success` && !strings.Contains(name, "active")); got != want {
				return name + ": got " + strconv.FormatFloat(after[name], 'f', -1, 64) + "; want " + strconv.FormatFloat(want, 'f', -1, 64)
			}
		}
		return ""
	})
}

func boolF(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
