package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/server/authn"
)

// hostileCookies are spellings of the session cookie; each line must
// reach the upstream without the token and with other=1 intact.
var hostileCookies = []string{
	"_pomerium=TOKEN; other=1", "other=1; _pomerium=TOKEN", "_pomerium =TOKEN; other=1", "_pomerium\t=TOKEN; other=1",
	" _pomerium=TOKEN;other=1", "\t_pomerium = TOKEN ; other=1", "_pomerium  \t =TOKEN;   other=1", "_POMERIUM=TOKEN; other=1",
	"_Pomerium=TOKEN; other=1", "\"_pomerium\"=TOKEN; other=1", ".pomerium=TOKEN; other=1",
	"_pomerium_csrf=TOKEN; other=1", "_pomerium_0=TOKEN; other=1", "_pomerium=\"TOKEN\"; other=1", "_pomerium=TOKEN;;other=1",
	"_pomerium\u00a0=TOKEN; other=1", "\u00a0_pomerium=TOKEN; other=1", "_pomerium\x0b=TOKEN; other=1", "_pomerium\r=TOKEN; other=1",
	"_pomerium\x00=TOKEN; other=1", "_pomerium[=TOKEN; other=1", "_pomerium=TOKEN=more; other=1", "_pomerium; other=1",
}

func TestStripCredentialsCookieSpellings(t *testing.T) {
	for _, line := range hostileCookies {
		h := http.Header{"Cookie": {line}}
		stripCredentials(h, nil)
		got := h.Values("Cookie")
		if len(got) != 1 || got[0] != "other=1" {
			t.Errorf("Cookie %q: upstream gets %q; want [\"other=1\"]", line, got)
		}
	}
	// Split over several Cookie lines (as HTTP/2 may send them).
	h := http.Header{"Cookie": {"a=1", "_pomerium =TOKEN", "b=2; _pomerium\t=TOKEN"}}
	stripCredentials(h, nil)
	if got := h.Get("Cookie"); got != "a=1; b=2" {
		t.Errorf("several Cookie lines: upstream gets %q; want a=1; b=2", got)
	}
	// Look-alikes that are not the proxy's stay.
	h = http.Header{"Cookie": {"pomerium=1; _pomeriumx=2; x_pomerium=3"}}
	stripCredentials(h, nil)
	if got := h.Get("Cookie"); got != "pomerium=1; _pomeriumx=2; x_pomerium=3" {
		t.Errorf("look-alike cookies: upstream gets %q; want them kept", got)
	}
}

// TestStripCredentialsAuthenticatedCookieIsStripped: whatever cookie
// line authenticates here (Go's parser finds _pomerium) loses it.
func TestStripCredentialsAuthenticatedCookieIsStripped(t *testing.T) {
	for _, line := range hostileCookies {
		r := &http.Request{Header: http.Header{"Cookie": {line}}}
		if c, err := r.Cookie(authn.SessionCookie); err != nil || c.Value == "" {
			continue
		}
		stripCredentials(r.Header, nil)
		if c, err := r.Cookie(authn.SessionCookie); err == nil {
			t.Errorf("Cookie %q authenticates and still carries %s=%q upstream", line, c.Name, c.Value)
		}
	}
}

func TestStripCredentialsHeaderSpellings(t *testing.T) {
	for _, name := range []string{
		"X-Pomerium-Claim-Email", "x-pomerium-claim-email", "X_Pomerium_Claim_Email", "x_pomerium_claim_email",
		"X-Pomerium_Claim-Email", "X_POMERIUM_CLAIM_EMAIL", "X-Pomerium-Jwt-Assertion", "X_Pomerium_Jwt_Assertion",
		"X-Pomerium-Authorization", "X_Pomerium_Authorization", "x_pomerium-authorization", "X-POMERIUM-CLAIM-GROUPS",
		"X-Pomerium", "X_Pomerium", "X_Forwarded_For", "x_forwarded_for", "X-Forwarded_Host", "X_FORWARDED_PROTO",
	} {
		h := http.Header{name: {"forged"}, "X-Other": {"1"}}
		stripCredentials(h, nil)
		if _, ok := h[name]; ok || len(h) != 1 || h.Get("X-Other") != "1" {
			t.Errorf("header %q: upstream gets %v; want only X-Other", name, h)
		}
	}
	h := http.Header{"X-Pomeriumx": {"1"}, "Xpomerium-Claim": {"2"}, "X-Forwarded-For": {"3"}}
	stripCredentials(h, nil)
	if len(h) != 3 {
		t.Errorf("look-alike headers: got %v; want both kept", h)
	}
}

func TestStripCredentialsAuthorizationSpellings(t *testing.T) {
	for _, v := range []string{"Pomerium TOKEN", "pomerium TOKEN", "POMERIUM TOKEN", "Bearer Pomerium-TOKEN", "bearer pomerium-TOKEN", " Pomerium TOKEN", "\tBearer Pomerium-TOKEN"} {
		h := http.Header{"Authorization": {v}}
		stripCredentials(h, nil)
		if got := h.Values("Authorization"); len(got) != 0 {
			t.Errorf("Authorization %q: upstream gets %q; want none", v, got)
		}
	}
	h := http.Header{"Authorization": {"Basic dXNlcjpwdw==", "Bearer upstream-token"}}
	stripCredentials(h, nil)
	if got := h.Values("Authorization"); len(got) != 2 {
		t.Errorf("the upstream's own Authorization values: got %q; want both kept", got)
	}
}

func TestStripCredentialsQuerySpellings(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pomerium_session=TOKEN&x=1", "x=1"},
		{"x=1&pomerium_session=TOKEN", "x=1"},
		{"x=1;pomerium_session=TOKEN", "x=1"},
		{"pomerium_session=TOKEN;x=1&y=2", "x=1&y=2"},
		{"x=1&Pomerium_Session=TOKEN", "x=1"},
		{"x=1&POMERIUM_SESSION=TOKEN", "x=1"},
		{"x=1&pomerium%5Fsession=TOKEN", "x=1"},
		{"x=1&%70omerium_session=TOKEN", "x=1"},
		{"x=1&pomerium_session%20=TOKEN", "x=1"},
		{"x=1&pomerium_session", "x=1"},
		{"pomerium_session=A&pomerium_session=B", ""},
		{"a=1;b=2&q=pomerium_session", "a=1;b=2&q=pomerium_session"},
		{"x=%zz&pomerium_session=TOKEN", "x=%zz"},
	} {
		u := &url.URL{Path: "/", RawQuery: tc.in}
		stripCredentials(http.Header{}, u)
		if u.RawQuery != tc.want {
			t.Errorf("query %q: upstream gets %q; want %q", tc.in, u.RawQuery, tc.want)
		}
		if strings.Contains(u.RawQuery, "TOKEN") {
			t.Errorf("query %q: the token is still there: %q", tc.in, u.RawQuery)
		}
	}
}
