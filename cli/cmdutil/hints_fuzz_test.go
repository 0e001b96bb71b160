package cmdutil

import (
	"net"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/tunnel"
)

// FuzzExplainServerText: whatever a proxy puts in a 403 body or a DNS
// answer names, the user gets one escaped line and one escaped, bounded
// hint.
func FuzzExplainServerText(f *testing.F) {
	for _, s := range termtest.Samples {
		f.Add(s, "why: "+s+"\nwhat to do: "+s)
	}
	f.Add("db:1", "why: \xff\xfe\nwhat to do: "+strings.Repeat("é", 300))
	f.Fuzz(func(t *testing.T, name, body string) {
		for _, err := range []error{
			&tunnel.StatusError{Proxy: "https://p", Authority: name, StatusCode: 403, Body: body},
			&tunnel.StatusError{Proxy: name, Authority: name, StatusCode: 404, Body: body},
			&net.DNSError{Name: name, Err: body},
			&RouteNameError{Server: name, msg: body},
		} {
			line, hint := Explain(err, name)
			if strings.ContainsAny(line+hint, "\n\r") {
				t.Fatalf("Explain(%T) = %q, %q; want one line each", err, line, hint)
			}
			if cerr := termtest.Check(line+" "+hint, false); cerr != nil {
				t.Fatalf("Explain(%T): %v", err, cerr)
			}
		}
	})
}

// FuzzHostFormAuthority: any destination a user types either names a
// host:port (lower case, one colon-separated port) or nothing.
func FuzzHostFormAuthority(f *testing.F) {
	for _, s := range []string{"db.example.com:5432", "tcp+https://DB.example.com:5432/", "tcp+https://p/x:1", "[::1]:53", "a", "udp+https://h:1", "tcp+https://u@h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dest string) {
		for _, typ := range []string{"tcp", "udp"} {
			a := hostFormAuthority(dest, typ)
			if a == "" {
				continue
			}
			host, port, err := net.SplitHostPort(a)
			if err != nil || host == "" || port == "" || a != strings.ToLower(a) || strings.ContainsAny(a, "/?#@") {
				t.Fatalf("hostFormAuthority(%q, %s) = %q; want a lower-case host:port or nothing", dest, typ, a)
			}
		}
	})
}
