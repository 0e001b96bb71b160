package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/porthole-dev/porthole/server/authn"
)

// auth is what a request presented and what it proved (see authn.Auth).
type auth = authn.Auth

// authenticate verifies whatever token r carries against the store.
func (s *Server) authenticate(r *http.Request) auth { return s.authn.Authenticate(r) }

// stripCredentials removes the user's Pomerium credentials and any
// inbound identity headers so nothing of them reaches an upstream.
func stripCredentials(h http.Header, u *url.URL) {
	for k := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Pomerium-") {
			delete(h, k)
		}
	}
	// Every Authorization value is looked at, not just the first: a second
	// header carrying a Pomerium token must not reach the upstream either,
	// while the client's own credentials for the upstream pass.
	if vals := h.Values("Authorization"); len(vals) > 0 {
		var keep []string
		for _, v := range vals {
			if _, ok := authn.PomeriumAuthorization(v); !ok {
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
				name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
				if name == authn.SessionCookie || name == authn.CSRFCookie || name == "" {
					continue
				}
				keep = append(keep, strings.TrimSpace(part))
			}
		}
		h.Del("Cookie")
		if len(keep) > 0 {
			h.Set("Cookie", strings.Join(keep, "; "))
		}
	}
	if u != nil {
		q := u.Query()
		if q.Has("pomerium_session") {
			q.Del("pomerium_session")
			u.RawQuery = q.Encode()
		}
	}
}
