package server_test

import (
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

func (e *routeEnv) upstreamCounts(t *testing.T, host string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := 0; i < n; i++ {
		resp, body := e.do(e.client, "GET", e.url(host, "/"), nil)
		if resp.StatusCode != 200 {
			got[resp.Status]++
			continue
		}
		got[decodeSeen(t, body).Name]++
	}
	return got
}

// TestLoadBalancing: lb_policy values, weights, passive failover with one
// of two upstreams dead, and active health checks taking an upstream
// out and back.
func TestLoadBalancing(t *testing.T) {
	a, _ := upstream(t, echoHandler("a"), nil)
	b, _ := upstream(t, echoHandler("b"), nil)
	dead := testutil.RefusedAddr(t)
	var bSick atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if bSick.Load() {
			http.Error(w, "sick", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.Handle("/", echoHandler("c"))
	c, _ := upstream(t, mux, nil)
	route := func(host, to, extra string) string {
		return "  - from: https://" + host + "\n    to: " + to + "\n    allow_public_unauthenticated_access: true\n" + extra
	}
	e := startRoutes(t, "routes:\n"+
		route("rr.localhost", "[http://"+a+", http://"+b+"]", "")+
		route("weights.localhost", "[\"http://"+a+",3\", \"http://"+b+",1\"]", "    lb_policy: ROUND_ROBIN\n")+
		route("random.localhost", "[http://"+a+", http://"+b+"]", "    lb_policy: RANDOM\n")+
		route("least.localhost", "[http://"+a+", http://"+b+"]", "    lb_policy: LEAST_REQUEST\n")+
		route("ring.localhost", "[http://"+a+", http://"+b+"]", "    lb_policy: RING_HASH\n")+
		route("maglev.localhost", "[http://"+a+", http://"+b+"]", "    lb_policy: MAGLEV\n")+
		route("failover.localhost", "[http://"+a+", http://"+dead+"]", "")+
		route("health.localhost", "[http://"+a+", http://"+c+"]",
			"    health_checks:\n      - timeout: 1s\n        interval: 50ms\n        unhealthy_threshold: 1\n        healthy_threshold: 1\n        http_health_check: {path: /healthz}\n")+
		route("tcphealth.localhost", "[http://"+a+", http://"+dead+"]",
			"    health_checks:\n      - timeout: 1s\n        interval: 50ms\n        unhealthy_threshold: 1\n        healthy_threshold: 1\n        tcp_health_check: {}\n"))

	if got := e.upstreamCounts(t, "rr.localhost", 10); got["a"] != 5 || got["b"] != 5 {
		t.Errorf("round robin: got %v; want 5 each", got)
	}
	if got := e.upstreamCounts(t, "weights.localhost", 12); got["a"] != 9 || got["b"] != 3 {
		t.Errorf("weights 3:1: got %v; want a 9, b 3", got)
	}
	if got := e.upstreamCounts(t, "random.localhost", 60); got["a"] == 0 || got["b"] == 0 || got["a"]+got["b"] != 60 {
		t.Errorf("random: got %v; want both used, all 200", got)
	}
	if got := e.upstreamCounts(t, "least.localhost", 20); got["a"]+got["b"] != 20 {
		t.Errorf("least request: got %v; want all 200", got)
	}
	for _, host := range []string{"ring.localhost", "maglev.localhost"} {
		if got := e.upstreamCounts(t, host, 10); got["a"] != 10 && got["b"] != 10 {
			t.Errorf("%s from one client: got %v; want every request on one upstream", host, got)
		}
	}
	// Passive failover: the dead upstream refuses, the request moves on.
	if got := e.upstreamCounts(t, "failover.localhost", 20); got["a"] != 20 {
		t.Errorf("one of two upstreams dead: got %v; want all 20 answered by a", got)
	}
	// Active HTTP health check: c fails it and gets no traffic; back
	// when it passes again.
	bSick.Store(true)
	pollUntil(t, 2*time.Minute, func() string {
		if got := e.upstreamCounts(t, "health.localhost", 6); got["a"] != 6 {
			return "c still gets traffic while failing its health check"
		}
		return ""
	})
	bSick.Store(false)
	pollUntil(t, 2*time.Minute, func() string {
		if got := e.upstreamCounts(t, "health.localhost", 6); got["c"] == 0 {
			return "c gets no traffic after passing its health check again"
		}
		return ""
	})
	if got := e.upstreamCounts(t, "tcphealth.localhost", 10); got["a"] != 10 {
		t.Errorf("tcp health check with a dead upstream: got %v; want all on a", got)
	}
}

// TestTCPFailover: a tcp route with two upstreams, one dead, still
// opens every tunnel.
func TestTCPFailover(t *testing.T) {
	echo := echoListener(t)
	dead := testutil.RefusedAddr(t)
	e := startRoutes(t, "routes:\n  - from: tcp+https://db.internal:5432\n    to: [tcp://"+dead+", tcp://"+echo+"]\n    allow_any_authenticated_user: true\n")
	d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: e.addr}, Addr: e.addr, CAPool: e.pki.pool()}
	tok := e.token("dev@example.com")
	for i := 0; i < 6; i++ {
		resp, conn, br := connectH1(t, d, "db.internal:5432", tok)
		if resp.StatusCode != 200 {
			t.Fatalf("tunnel %d: got %d; want 200", i, resp.StatusCode)
		}
		io.WriteString(conn, "hello\n")
		buf := make([]byte, 6)
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "hello\n" {
			t.Fatalf("tunnel %d echo: got %q, %v", i, buf, err)
		}
		conn.Close()
	}
}
