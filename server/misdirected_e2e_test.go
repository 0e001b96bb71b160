package server_test

import (
	"net/http"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestMisdirectedRequests: a Host other than the TLS SNI gets 421 with
// or without credentials, over HTTP/1.1 and HTTP/2; the same host in any
// spelling, and requests without SNI, are served.
func TestMisdirectedRequests(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	port := d.URL.Port()
	for _, h2 := range []bool{false, true} {
		proto := map[bool]string{false: "h1", true: "h2"}[h2]
		c := sniClient(t, d, "public.localhost", h2)
		for _, tc := range []struct {
			host string
			auth bool
			want int
		}{
			{"verify.localhost:" + port, false, http.StatusMisdirectedRequest},
			{"verify.localhost:" + port, true, http.StatusMisdirectedRequest},
			{"VERIFY.localhost:" + port, true, http.StatusMisdirectedRequest},
			{"verify.localhost", true, http.StatusMisdirectedRequest},
			{"verify.localhost.:" + port, true, http.StatusMisdirectedRequest},
			{"localhost:" + port, true, http.StatusMisdirectedRequest},
			{"127.0.0.1:" + port, true, http.StatusMisdirectedRequest},
			{"[::1]:" + port, false, http.StatusMisdirectedRequest},
			{"evil.example", false, http.StatusMisdirectedRequest},
			{"public.localhost.evil.example:" + port, false, http.StatusMisdirectedRequest},
			{"public.localhost:" + port, false, http.StatusOK},
			{"PUBLIC.LocalHost:" + port, false, http.StatusOK},
			{"public.localhost.:" + port, false, 0}, // the same host: anything but 421
		} {
			name := proto + "/" + tc.host
			if tc.auth {
				name += "/with-token"
			}
			t.Run(name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, "https://public.localhost:"+port+"/", nil)
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
				resp.Body.Close()
				if tc.want == 0 && resp.StatusCode == http.StatusMisdirectedRequest || tc.want != 0 && resp.StatusCode != tc.want {
					t.Errorf("SNI public.localhost, Host %s: got %d; want %d", tc.host, resp.StatusCode, tc.want)
				}
				if wantMajor := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != wantMajor {
					t.Errorf("answered over %s; want %s", resp.Proto, proto)
				}
			})
		}

		// No SNI (the client dials an IP address): Host decides, as before.
		t.Run(proto+"/no SNI", func(t *testing.T) {
			c := sniClient(t, d, "", h2)
			req, err := http.NewRequest(http.MethodGet, "https://127.0.0.1:"+port+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "verify.localhost:" + port
			req.Header.Set("Authorization", "Pomerium "+tok)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.TLS == nil || resp.TLS.ServerName != "" && resp.TLS.ServerName != "127.0.0.1" {
				t.Fatalf("connection state %+v; want no SNI", resp.TLS)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("no SNI, Host verify.localhost: got %d; want 200 from the verify route", resp.StatusCode)
			}
		})
	}
}
