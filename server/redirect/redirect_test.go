package redirect

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// hostileReturns are spellings of "somewhere else" for the post-sign-in
// return value. Each must be refused or end up as a path on this host.
var hostileReturns = []string{
	"//evil.example/", "///evil.example", "////evil.example",
	"/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example",
	"/./\\evil.example", "/.//evil.example", "/a/..//evil.example", "/a/../\\evil.example",
	"/./%5Cevil.example", "/%5C%5Cevil.example", "/%2F%2Fevil.example", "/.%2F%2Fevil.example",
	"/%2e/%2e%2e//evil.example", "/..//evil.example", "/../\\evil.example", "/.../..//evil.example",
	"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\x00/evil.example",
	"\t//evil.example", " //evil.example", "/ /evil.example", "\x0b//evil.example", "\x0c//evil.example",
	"/\x7f/evil.example", "/\u0085/evil.example", "/\u00a0/evil.example", "/\u2028/evil.example",
	"/\u200b/evil.example", "/\u202e/evil.example", "/\ufeff/evil.example", "/\u3000/evil.example",
	"https://evil.example/", "HTTPS://evil.example/", "http://verify.localhost/", "https:evil.example",
	"https:/evil.example", "https:\\\\evil.example", "javascript:alert(1)", "data:text/html,x",
	"//verify.localhost@evil.example/", "https://verify.localhost@evil.example/",
	"https://evil.example\\@verify.localhost/", "https://verify.localhost.evil.example/",
	"https://user@verify.localhost/", "//verify.localhost/", "evil.example", "./evil.example",
	"../evil.example", "?x=//evil.example", "#//evil.example", "/?\u00e9", "/a?b=\\c",
	"/%0d%0aSet-Cookie:x", // decoded into the path and re-escaped: stays a path
	"/\u2215\u2215evil.example", "/\uff0f\uff0fevil.example",
	strings.Repeat("/a", MaxLen),
}

func TestReturnPathHostile(t *testing.T) {
	const host = "verify.localhost"
	for _, in := range hostileReturns {
		got, err := ReturnPath(in, host)
		if err != nil {
			if !errors.Is(err, ErrReturn) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("ReturnPath(%q) error %q: want one line wrapping ErrReturn", in, err)
			}
			continue
		}
		assertStaysOnHost(t, in, got, host)
	}
}

// assertStaysOnHost resolves loc the way a browser does (backslash as
// slash, tabs and newlines dropped) and wants this host.
func assertStaysOnHost(t *testing.T, in, loc, host string) {
	t.Helper()
	if err := CheckLocalLocation(loc); err != nil {
		t.Fatalf("ReturnPath(%q) = %q, which fails CheckLocalLocation: %v", in, loc, err)
	}
	browser := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(strings.TrimSpace(loc))
	ref, err := url.Parse(browser)
	if err != nil {
		t.Fatalf("ReturnPath(%q) = %q, which does not parse: %v", in, loc, err)
	}
	base := &url.URL{Scheme: "https", Host: host, Path: "/"}
	if got := base.ResolveReference(ref); got.Host != host || got.Scheme != "https" {
		t.Fatalf("ReturnPath(%q) = %q leads to %s", in, loc, got)
	}
}

func TestReturnPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/.pomerium/routes", "/.pomerium/routes"},
		{"/app?x=1&y=%2F", "/app?x=1&y=%2F"},
		{"/a/./b/../c/", "/a/c/"},
		{"/", "/"},
		{"/caf%C3%A9", "/caf%C3%A9"},
		{"/café", "/caf%C3%A9"},
		{"/%0d%0aSet-Cookie:x", "/%0D%0ASet-Cookie:x"},
		{"https://verify.localhost/app?q=1", "/app?q=1"},
		{"https://VERIFY.localhost/app", "/app"},
	} {
		got, err := ReturnPath(tc.in, "verify.localhost")
		if err != nil || got != tc.want {
			t.Errorf("ReturnPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "relative", "//evil.example", "/./\\evil.example", "https://evil.example/", "/\t/x"} {
		if got, err := ReturnPath(in, "verify.localhost"); err == nil {
			t.Errorf("ReturnPath(%q) = %q; want an error", in, got)
		}
	}
}

func TestCheckLocalLocation(t *testing.T) {
	for _, loc := range []string{"", "x", "//evil.example", "/\\evil.example", "/a\\b", "/a b", "/\x00", "/\u00e9", "https://x/"} {
		if CheckLocalLocation(loc) == nil {
			t.Errorf("CheckLocalLocation(%q) = nil; want an error", loc)
		}
	}
	if err := CheckLocalLocation("/a/b?c=%2F%2F#f"); err != nil {
		t.Errorf("CheckLocalLocation of a plain path: %v", err)
	}
}

// hostileProgrammatic are pomerium_redirect_uri spellings of a host that
// is neither loopback nor allowed.
var hostileProgrammatic = []string{
	"https://evil.example/", "http://evil.example:80/", "//evil.example/", "evil.example",
	"http://localhost.evil.example/", "http://localhost@evil.example/", "http://127.0.0.1@evil.example/",
	"http://127.0.0.1:80@evil.example/", "http://evil.example#@127.0.0.1/", "http://evil.example?@127.0.0.1/",
	"http://evil.example\\@127.0.0.1/", "http://127.0.0.1\\@evil.example/", "http:\\\\evil.example\\",
	"http://127.0.0.1\t.evil.example/", "http://127.0.0.1\n.evil.example/", " http://evil.example/",
	"http://evil.example%2F@127.0.0.1/", "http://evil.example%40127.0.0.1/", "http://127.0.0.1%2eevil.example/",
	"http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://[::ffff:8.8.8.8]/",
	"http://localhost./", "http://localhost%00.evil.example/", "http://loca\u00adlhost/", "http://localhost\u3002evil.example/",
	"http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/", "javascript://127.0.0.1/%0aalert(1)",
	"ftp://127.0.0.1/", "file://127.0.0.1/etc/passwd", "http:127.0.0.1", "http:/127.0.0.1", "http:///evil.example/",
	"HTTP://evil.example/", "http://allowed.example.evil/", "http://evil.allowed.example/", "http://[::1]@evil.example/",
	strings.Repeat("x", MaxLen+1),
}

func TestProgrammaticHostile(t *testing.T) {
	allowed := []string{"allowed.example"}
	for _, in := range hostileProgrammatic {
		u, err := Programmatic(in, allowed)
		if err == nil {
			t.Errorf("Programmatic(%q) = %s; want it refused", in, u)
			continue
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("Programmatic(%q) error is not one line: %q", in, err)
		}
	}
}

func TestProgrammatic(t *testing.T) {
	for _, in := range []string{
		"http://127.0.0.1:5555/", "http://127.0.0.1:5555", "https://localhost:1/cb?x=1", "http://[::1]:80/",
		"http://127.5.6.7/", "http://LOCALHOST:9/", "https://allowed.example/done", "https://ALLOWED.example/",
	} {
		u, err := Programmatic(in, []string{"allowed.example"})
		if err != nil {
			t.Errorf("Programmatic(%q): %v", in, err)
			continue
		}
		if u.String() == "" {
			t.Errorf("Programmatic(%q) returned an empty URL", in)
		}
	}
}
