package redirect

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnPath: whatever is accepted is a path on this host as a
// browser reads it, and accepting it again gives the same value.
func FuzzReturnPath(f *testing.F) {
	for _, s := range append(hostileReturns[:len(hostileReturns)-1], "/.pomerium/routes", "/a/./b/../c/?x=1", "https://verify.localhost/x") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		const host = "verify.localhost"
		got, err := ReturnPath(in, host)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		assertStaysOnHost(t, in, got, host)
		again, err := ReturnPath(got, host)
		if err != nil || again != got {
			t.Fatalf("ReturnPath(%q) = %q, but ReturnPath of that = %q, %v", in, got, again, err)
		}
	})
}

// FuzzProgrammatic: an accepted URL, as sent, names an allowed host.
func FuzzProgrammatic(f *testing.F) {
	for _, s := range append(hostileProgrammatic[:len(hostileProgrammatic)-1], "http://127.0.0.1:5555/", "https://localhost/?a=b", "http://[::1]:1/") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := Programmatic(in, []string{"allowed.example"})
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		sent := u.String()
		if strings.IndexFunc(sent, unsafeRune) >= 0 {
			t.Fatalf("Programmatic(%q) sends %q with unsafe characters", in, sent)
		}
		back, err := url.Parse(sent)
		if err != nil || back.User != nil || (back.Scheme != "http" && back.Scheme != "https") {
			t.Fatalf("Programmatic(%q) sends %q: %v", in, sent, err)
		}
		if h := back.Hostname(); !allowedHost(h, []string{"allowed.example"}) {
			t.Fatalf("Programmatic(%q) sends %q to host %q", in, sent, h)
		}
	})
}
