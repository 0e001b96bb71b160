package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/session"
)

// credSource says where a request's token came from.
type credSource int

const (
	credNone credSource = iota
	credCookie
	credHeader // X-Pomerium-Authorization or an Authorization form
	credQuery
)

// auth is what a request presented and what it proved.
type auth struct {
	source  credSource
	session *session.Claims // nil: no valid session
}

// explicit reports whether the caller deliberately sent a token (not a
// browser cookie): a bad one then gets 401 instead of a sign-in redirect.
func (a auth) explicit() bool { return a.source == credHeader || a.source == credQuery }

func (a auth) identity() *policy.Identity {
	if a.session == nil {
		return nil
	}
	c := a.session
	return &policy.Identity{User: c.Subject, Email: c.Email, Groups: c.Groups, Claims: c.Claims}
}

// token finds the presented token in PROTOCOL.md's order.
func token(r *http.Request) (string, credSource) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return c.Value, credCookie
	}
	if v := r.Header.Get("X-Pomerium-Authorization"); v != "" {
		return strings.TrimSpace(v), credHeader
	}
	if t, ok := pomeriumAuthorization(r.Header.Get("Authorization")); ok {
		return strings.TrimSpace(t), credHeader
	}
	if v := r.URL.Query().Get("pomerium_session"); v != "" {
		return v, credQuery
	}
	return "", credNone
}

// pomeriumAuthorization is the token of an Authorization header in one
// of Pomerium's forms; other schemes belong to the upstream.
func pomeriumAuthorization(v string) (string, bool) {
	if t, ok := cutPrefixFold(v, "Pomerium "); ok {
		return t, true
	}
	return cutPrefixFold(v, "Bearer Pomerium-")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// authenticate verifies whatever token r carries.
func (s *Server) authenticate(r *http.Request) auth {
	tok, src := token(r)
	if src == credNone {
		return auth{}
	}
	c, err := s.keys.Verify(tok)
	if err != nil {
		return auth{source: src}
	}
	return auth{source: src, session: c}
}

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
			if _, ok := pomeriumAuthorization(v); !ok {
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
				if name == sessionCookie || name == csrfCookie || name == "" {
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
