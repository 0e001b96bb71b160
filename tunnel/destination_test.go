package tunnel

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

// hostileDestinations each must be refused with one line naming the
// problem, in every form ParseDestination takes.
var hostileDestinations = []string{
	"[a\r\nX-Injected:1\r\n]:7000",
	"a\r\nX-Injected: 1:7000",
	"db\r\n:5432",
	"db\n:5432",
	"db\r:5432",
	"db\x00:5432",
	"db\x1b[2J:5432",
	"db\u0085:5432",
	"db\u202e:5432",
	"db\u2028:5432",
	"db example:5432",
	"db\t:5432",
	"db\x7f:5432",
	"db:54\r\n32",
	"db:5432\r\nX: y",
	"db:+5432",
	"db:-1",
	"db:0",
	"db:65536",
	"db:1e3",
	"db: 5432",
	"db:0x10",
	"db:",
	":5432",
	"db",
	"user@db:5432",
	"db?x:5432",
	"db#x:5432",
	"db%0d%0a:5432",
	"db%:5432",
	"db\\evil:5432",
	"db\"x:5432",
	"db<x>:5432",
	"db|x:5432",
	"db{x}:5432",
	"::1:22",
	"[::1:22",
	"::1]:22",
	"[::1%25eth0]:22",
	"[fe80::1%eth0]:22",
	"[127.0.0.1]:22",
	"[xyz]:22",
	"[]:22",
	"[::1]x:22",
	"256.1.1.1:22",
	"1.2.3:22",
	"1.2.3.4.5:22",
	"01.2.3.4:22",
	"bücher.example:443",
	"\xff\xfe:22",
	strings.Repeat("a", 256) + ":22",
}

var goodDestinations = []struct{ in, authority string }{
	{"db.example.com:5432", "db.example.com:5432"},
	{"DB.Example.COM:1", "DB.Example.COM:1"},
	{"db:65535", "db:65535"},
	{"127.0.0.1:22", "127.0.0.1:22"},
	{"[::1]:22", "[::1]:22"},
	{"[2001:db8::1]:443", "[2001:db8::1]:443"},
	{"[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]:80"},
	{"xn--bcher-kva.example:443", "xn--bcher-kva.example:443"},
	{"my_host-1.internal~x:7000", "my_host-1.internal~x:7000"},
	{"  db:5432  ", "db:5432"},
}

func TestParseDestinationRefusesHostile(t *testing.T) {
	for _, h := range hostileDestinations {
		for _, form := range []string{h, "tcp+https://proxy.example.com:8443/" + h, "tcp+https://" + h} {
			t.Run(form, func(t *testing.T) {
				d, err := ParseDestination(form, "")
				if err == nil {
					t.Fatalf("ParseDestination(%q) = %+v; want an error", form, d)
				}
				msg := err.Error()
				if strings.ContainsAny(msg, "\r\n\x00\x1b") || strings.ContainsRune(msg, 0x85) || strings.ContainsRune(msg, 0x202e) {
					t.Fatalf("error is not one clean line: %q", msg)
				}
			})
		}
		if err := ValidateAuthority(h); err == nil {
			t.Errorf("ValidateAuthority(%q) = nil; want an error", h)
		}
	}
}

func TestParseDestinationAcceptsValid(t *testing.T) {
	for _, g := range goodDestinations {
		t.Run(g.in, func(t *testing.T) {
			d, err := ParseDestination(g.in, "")
			if err != nil {
				t.Fatalf("ParseDestination(%q): %v", g.in, err)
			}
			if d.Authority != g.authority {
				t.Fatalf("authority = %q; want %q", d.Authority, g.authority)
			}
			if _, err := ParseDestination("tcp+https://proxy.example.com/"+g.authority, ""); err != nil {
				t.Fatalf("path form: %v", err)
			}
		})
	}
}

func TestParseProxyURLRefusesHostile(t *testing.T) {
	for _, s := range []string{
		"https://proxy\r\nX: 1", "https://pro xy", "https://proxy:0", "https://proxy:65536", "https://proxy:+1",
		"https://[::1", "https://::1", "https://pr%0aoxy", "https://proxy\u202e", "http://proxy", "ftp://proxy",
		"https://", "https://pro\\xy",
	} {
		if u, err := ParseProxyURL(s); err == nil {
			t.Errorf("ParseProxyURL(%q) = %v; want an error", s, u)
		}
	}
	for _, s := range []string{"https://proxy.example.com", "https://proxy:8443", "https://[::1]:8443", "https://127.0.0.1"} {
		if _, err := ParseProxyURL(s); err != nil {
			t.Errorf("ParseProxyURL(%q): %v", s, err)
		}
	}
}

// The last line of defence: a Destination built by hand never reaches
// the request line, and neither does a token with a line break.
func TestRequestTargetGuard(t *testing.T) {
	for _, h := range hostileDestinations {
		if _, err := (Destination{Authority: h}).requestTarget(); err == nil {
			t.Errorf("requestTarget(%q) = nil error", h)
		}
	}
	for _, tok := range []string{"a\r\nX: 1", "a b", "a\x00", "a\u0085"} {
		if err := checkHeaderToken(tok); err == nil {
			t.Errorf("checkHeaderToken(%q) = nil", tok)
		}
	}
	if err := checkHeaderToken("eyJhbGciOi.eyJzdWIi.sig-_"); err != nil {
		t.Errorf("checkHeaderToken(jwt): %v", err)
	}
}

// connectRequestParses says a CONNECT built from authority is exactly one
// request whose target and Host are authority.
func connectRequestParses(t *testing.T, authority string) {
	t.Helper()
	raw := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("CONNECT for accepted authority %q does not parse: %v", authority, err)
	}
	if req.Host != authority || len(req.Header) != 0 {
		t.Fatalf("CONNECT for %q parsed as host %q headers %v", authority, req.Host, req.Header)
	}
}

func FuzzParseDestination(f *testing.F) {
	for _, h := range hostileDestinations {
		f.Add(h, "")
	}
	for _, g := range goodDestinations {
		f.Add(g.in, "")
		f.Add("tcp+https://proxy:8443/"+g.in, "https://proxy:8443")
	}
	f.Add("tcp+https://db.example.com:5432", "https://[::1]:1")
	f.Fuzz(func(t *testing.T, dest, pomeriumURL string) {
		d, err := ParseDestination(dest, pomeriumURL)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if err := ValidateAuthority(d.Authority); err != nil {
			t.Fatalf("accepted %q but its authority fails: %v", dest, err)
		}
		if err := validateURLHost(d.Proxy.Host); err != nil {
			t.Fatalf("accepted %q but its proxy %q fails: %v", dest, d.Proxy.Host, err)
		}
		connectRequestParses(t, d.Authority)
	})
}

func FuzzParseProxyURL(f *testing.F) {
	for _, s := range []string{"https://proxy:8443", "https://[::1]:443", "https://p\r\n", "https://p:0", "https://p/x?y#z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseProxyURL(s)
		if err != nil {
			return
		}
		if err := validateURLHost(u.Host); err != nil || u.Scheme != "https" || u.Path != "" {
			t.Fatalf("accepted %q as %v: %v", s, u, err)
		}
	})
}
