package server

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"unicode"

	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/session"
)

// auth is what a request presented and what it proved (authn.Auth in
// this package's words).
type auth struct {
	source  authn.CredSource
	session *session.Claims // nil: no valid session
	token   string
}

const (
	credQuery     = authn.CredQuery
	sessionCookie = authn.SessionCookie
)

// explicit reports whether the caller deliberately sent a token (not a
// browser cookie): a bad one then gets 401 instead of a sign-in redirect.
func (a auth) explicit() bool { return authn.Auth{Source: a.source}.Explicit() }

func (a auth) identity() *policy.Identity { return authn.Auth{Session: a.session}.Identity() }

// authenticate verifies whatever token r carries against the store.
func (s *Server) authenticate(r *http.Request) auth {
	a := s.auth().Authenticate(r)
	return auth{source: a.Source, session: a.Session, token: a.Token}
}

// redirectToSignIn sends a browser to sign in and come back to r's page.
func redirectToSignIn(w http.ResponseWriter, r *http.Request) { authn.RedirectToSignIn(w, r) }

// stripCredentials removes the user's Pomerium credentials and any
// inbound identity headers so nothing of them reaches an upstream.
// Names are compared as the most lenient reader would see them, not as
// sent: what authenticated here, or what an upstream framework would
// read as a Pomerium name, is gone.
func stripCredentials(h http.Header, u *url.URL) {
	for k := range h {
		if isProxyHeader(k) || isForwardedSpelling(k) {
			delete(h, k)
		}
	}
	// Every Authorization value is looked at, not just the first: a second
	// header carrying a Pomerium token must not reach the upstream either,
	// while the client's own credentials for the upstream pass.
	if vals := h.Values("Authorization"); len(vals) > 0 {
		var keep []string
		for _, v := range vals {
			if _, ok := authn.PomeriumAuthorization(strings.TrimLeft(v, " \t")); !ok {
				keep = append(keep, v)
			}
		}
		h.Del("Authorization")
		for _, v := range keep {
			h.Add("Authorization", v)
		}
	}
	if cookies := h.Values("Cookie"); len(cookies) > 0 {
		var keep []string
		for _, line := range cookies {
			for _, part := range strings.Split(line, ";") {
				part = textproto.TrimString(part)
				name, _, _ := strings.Cut(part, "=")
				if part == "" || isProxyCookie(name) {
					continue
				}
				keep = append(keep, part)
			}
		}
		h.Del("Cookie")
		if len(keep) > 0 {
			h.Set("Cookie", strings.Join(keep, "; "))
		}
	}
	if u != nil {
		stripQueryCredentials(u)
	}
}

// isProxyHeader reports whether a header name is one of the proxy's own
// (X-Pomerium-*) in any case, with "_" for "-" as CGI, WSGI and PHP
// upstreams read it, and with stray spaces.
func isProxyHeader(name string) bool {
	n := headerAsRead(name)
	return strings.HasPrefix(n, "x-pomerium-") || n == "x-pomerium"
}

// isForwardedSpelling reports whether a header name is another spelling
// (underscores) of an X-Forwarded-* header the proxy sets itself: the
// proxy replaces the real ones, but a CGI upstream would read
// X_Forwarded_For as the client address too.
func isForwardedSpelling(name string) bool {
	if !strings.Contains(name, "_") {
		return false
	}
	return strings.HasPrefix(headerAsRead(name), "x-forwarded-")
}

// headerAsRead is a header name as the most lenient upstream reads it:
// lower case, "_" for "-" (CGI, WSGI, PHP), stray spaces trimmed.
func headerAsRead(name string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "_", "-"))
}

// isProxyCookie reports whether a cookie name, as some parser may see
// it, is the session cookie or another of the proxy's cookies: Go and
// most frameworks trim spaces and tabs around the name, PHP also turns
// spaces and dots into underscores, some compare case-insensitively, and
// some strip quotes.
func isProxyCookie(name string) bool {
	n := strings.TrimFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || unicode.IsControl(r) })
	n = strings.ToLower(strings.NewReplacer(" ", "_", ".", "_", "[", "_").Replace(n))
	return n == authn.SessionCookie || strings.HasPrefix(n, authn.SessionCookie+"_")
}

// stripQueryCredentials drops pomerium_session from u's query in every
// spelling that some query parser would decode to it: percent-escapes,
// any case, and ";" as a separator (Go's parser skips such pairs, older
// Python and Java ones do not).
func stripQueryCredentials(u *url.URL) {
	if u.RawQuery == "" || !strings.Contains(strings.ToLower(queryUnescape(u.RawQuery)), "pomerium_session") {
		return
	}
	isCred := func(pair string) bool {
		k, _, _ := strings.Cut(pair, "=")
		return strings.EqualFold(strings.TrimSpace(queryUnescape(k)), "pomerium_session")
	}
	var keep []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		var sub []string
		for _, p := range strings.Split(pair, ";") {
			if !isCred(p) {
				sub = append(sub, p)
			}
		}
		if len(sub) > 0 {
			keep = append(keep, strings.Join(sub, ";"))
		}
	}
	u.RawQuery = strings.Join(keep, "&")
}

// queryUnescape decodes s as a query key, or leaves it when it does not.
func queryUnescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}
