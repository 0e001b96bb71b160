package tunnel

import (
	"strings"
	"testing"
)

func TestParseUDPDestination(t *testing.T) {
	for _, tc := range []struct {
		dest, pomeriumURL, proxy, authority, wantErr string
	}{
		{dest: "dns.example.com:53", proxy: "https://dns.example.com:443", authority: "dns.example.com:53"},
		{dest: "udp+https://dns.example.com:53", proxy: "https://dns.example.com:443", authority: "dns.example.com:53"},
		{dest: "udp+https://proxy.example.com:8443/dns.internal:53", proxy: "https://proxy.example.com:8443", authority: "dns.internal:53"},
		{dest: "UDP+HTTPS://dns.example.com:53", pomeriumURL: "https://p.example.com", proxy: "https://p.example.com", authority: "dns.example.com:53"},
		{dest: "tcp+https://db.example.com:5432", wantErr: `scheme "tcp+https" is not udp+https`},
		{dest: "udp+https://dns.example.com", wantErr: "udp+https://"},
		{dest: "", wantErr: "udp+https"},
	} {
		t.Run(tc.dest, func(t *testing.T) {
			d, err := ParseUDPDestination(tc.dest, tc.pomeriumURL)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "want host:port, tcp+https") {
					t.Fatalf("got %v; want an error containing %q that names the udp forms", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Proxy.String() != tc.proxy || d.Authority != tc.authority {
				t.Errorf("got proxy %s authority %s; want %s %s", d.Proxy, d.Authority, tc.proxy, tc.authority)
			}
		})
	}
}
