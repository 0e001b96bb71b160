package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/upstreams"
)

// TestTrailingDotHost: a fully qualified Host ("verify.localhost.") is
// the route's host, as Envoy's strip_trailing_host_dot makes it for
// Pomerium: matched over HTTP/1.1 and HTTP/2, with SNI (clients send it
// without the dot) and without, the upstream and the sign-in redirect
// see the name without the dot, and only one dot is dropped.
func TestTrailingDotHost(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	port := d.URL.Port()
	for _, h2 := range []bool{false, true} {
		proto := map[bool]string{false: "h1", true: "h2"}[h2]
		for _, tc := range []struct {
			name, sni, host string
			auth            bool
			want            int
			check           func(t *testing.T, resp *http.Response, body string)
		}{
			{"verify", "verify.localhost.", "verify.localhost.:" + port, true, http.StatusOK, verifySawHost("verify.localhost:" + port)},
			{"verify upper case", "VERIFY.localhost.", "VERIFY.LOCALHOST.:" + port, true, http.StatusOK, verifySawHost("VERIFY.LOCALHOST:" + port)},
			{"verify without SNI", "", "verify.localhost.:" + port, true, http.StatusOK, verifySawHost("verify.localhost:" + port)},
			{"public", "public.localhost.", "public.localhost.:" + port, false, http.StatusOK, nil},
			{"sign-in redirect", "verify.localhost.", "verify.localhost.:" + port, false, http.StatusFound, func(t *testing.T, resp *http.Response, _ string) {
				loc := resp.Header.Get("Location")
				if loc == "" || strings.Contains(loc, "localhost.") || strings.Contains(loc, "localhost.%3A") {
					t.Errorf("Location %q; want a sign-in URL naming verify.localhost without the dot", loc)
				}
			}},
			{"two dots: another SNI", "verify.localhost", "verify.localhost..:" + port, true, http.StatusMisdirectedRequest, nil},
			{"two dots: no route", "", "verify.localhost..:" + port, true, http.StatusNotFound, nil},
			{"dot before the wrong port", "", "verify.localhost.:1", true, http.StatusNotFound, nil},
			{"portal host", "localhost", "localhost.:" + port, false, http.StatusFound, func(t *testing.T, resp *http.Response, _ string) {
				if loc := resp.Header.Get("Location"); loc != "/.pomerium/routes" {
					t.Errorf("Location %q; want the portal", loc)
				}
			}},
		} {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				c := sniClient(t, d, tc.sni, h2)
				path := "/dotted?q=1"
				if tc.name == "portal host" {
					path = "/"
				}
				req, err := http.NewRequest(http.MethodGet, "https://"+d.Addr+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = tc.host
				if tc.auth {
					req.Header.Set("Authorization", "Pomerium "+tok)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.want {
					t.Fatalf("SNI %q, Host %q: got %d (%s); want %d", tc.sni, tc.host, resp.StatusCode, strings.TrimSpace(string(b)), tc.want)
				}
				if wantMajor := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != wantMajor {
					t.Errorf("answered over %s; want %s", resp.Proto, proto)
				}
				if tc.check != nil {
					tc.check(t, resp, string(b))
				}
			})
		}
	}

	// CONNECT names its destination the same way: the tcp route's
	// authority with the dot is that route.
	t.Run("CONNECT", func(t *testing.T) {
		for _, tc := range []struct {
			authority string
			want      int
		}{
			{"echo.internal.:7000", http.StatusOK},
			{"echo.internal..:7000", http.StatusNotFound},
		} {
			code, conn, err := dialConnect(d.Addr, d.CAPool, tc.authority, tok)
			if err != nil {
				t.Fatalf("CONNECT %s: %v", tc.authority, err)
			}
			if code != tc.want {
				t.Fatalf("CONNECT %s: got %d; want %d", tc.authority, code, tc.want)
			}
			if conn != nil {
				err := echoOnce(conn, "dotted")
				conn.Close()
				if err != nil {
					t.Fatalf("CONNECT %s: %v", tc.authority, err)
				}
			}
		}
	})
}

// verifySawHost checks that the verify upstream was told the request's
// host without the trailing dot.
func verifySawHost(want string) func(t *testing.T, resp *http.Response, body string) {
	return func(t *testing.T, resp *http.Response, body string) {
		t.Helper()
		var v upstreams.VerifyResponse
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("verify answer %q: %v", body, err)
		}
		if got := strings.Join(v.Headers["X-Forwarded-Host"], ","); got != want {
			t.Errorf("upstream X-Forwarded-Host %q; want %q", got, want)
		}
		if v.Path != "/dotted" || v.Query != "q=1" {
			t.Errorf("upstream got path %q query %q; want /dotted, q=1", v.Path, v.Query)
		}
	}
}
