package authn

import (
	"net/http"
	"strings"

	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/session"
	"github.com/porthole-dev/porthole/server/store"
)

// CredSource says where a request's token came from.
type CredSource int

// Where a token can come from, in PROTOCOL.md's order.
const (
	CredNone CredSource = iota
	CredCookie
	CredHeader // X-Pomerium-Authorization or an Authorization form
	CredQuery
)

// Auth is what a request presented and what it proved.
type Auth struct {
	Source  CredSource
	Session *session.Claims // nil: no valid session
	// Token is the credential as presented (the query form becomes a
	// cookie through SetCookieFor).
	Token string
}

// Explicit reports whether the caller deliberately sent a token (not a
// browser cookie): a bad one then gets 401 instead of a sign-in redirect.
func (a Auth) Explicit() bool { return a.Source == CredHeader || a.Source == CredQuery }

// Identity is the policy's view of the session (nil without one).
func (a Auth) Identity() *policy.Identity {
	if a.Session == nil {
		return nil
	}
	c := a.Session
	return &policy.Identity{User: c.Subject, Email: c.Email, Groups: c.Groups, Claims: c.Claims}
}

// Token finds the presented token in PROTOCOL.md's order.
func Token(r *http.Request) (string, CredSource) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return c.Value, CredCookie
	}
	if v := r.Header.Get("X-Pomerium-Authorization"); v != "" {
		return strings.TrimSpace(v), CredHeader
	}
	if t, ok := PomeriumAuthorization(r.Header.Get("Authorization")); ok {
		return strings.TrimSpace(t), CredHeader
	}
	if v := r.URL.Query().Get("pomerium_session"); v != "" {
		return v, CredQuery
	}
	return "", CredNone
}

// PomeriumAuthorization is the token of an Authorization header in one
// of Pomerium's forms; other schemes belong to the upstream.
func PomeriumAuthorization(v string) (string, bool) {
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

// Authenticate verifies whatever token r carries against the store: a
// cookie names a session, a token a session and itself (or a service
// account). Sessions due for refresh are refreshed here.
func (s *Service) Authenticate(r *http.Request) Auth {
	tok, src := Token(r)
	if src == CredNone {
		return Auth{}
	}
	a := Auth{Source: src, Token: tok}
	if src == CredCookie {
		if sid, err := s.keys.OpenCookie(tok, hostOnly(r.Host)); err == nil {
			if sess, err := s.loadSession(r.Context(), sid); err == nil {
				a.Session = sess.claims()
			}
			return a
		}
	}
	a.Session = s.verifyToken(r, tok)
	return a
}

// verifyToken checks a pomerium_jwt or a service account token.
func (s *Service) verifyToken(r *http.Request, tok string) *session.Claims {
	c, err := s.keys.Verify(tok)
	if err != nil {
		return nil
	}
	ctx := r.Context()
	if c.ServiceAccount != "" {
		return s.verifyServiceAccount(r, c, tok)
	}
	if c.SessionID == "" || c.TokenID == "" {
		return nil
	}
	if revoked, err := s.store.Revoked(ctx, c.TokenID); err != nil || revoked {
		return nil
	}
	sess, err := s.loadSession(ctx, c.SessionID)
	if err != nil {
		return nil
	}
	return sess.claims()
}

// hashToken names a device code in the store (the code itself is never
// stored).
func hashToken(tok string) string { return store.HashSecret(tok) }

func (s *Service) verifyServiceAccount(r *http.Request, c *session.Claims, tok string) *session.Claims {
	sa, err := s.store.GetServiceAccount(r.Context(), c.ServiceAccount)
	if err != nil {
		return nil
	}
	if !store.CheckSecret(sa.SecretHash, tok) {
		return nil
	}
	if !sa.ExpiresAt.IsZero() && !s.now().Before(sa.ExpiresAt) {
		return nil
	}
	out := &session.Claims{Subject: sa.UserID, Claims: map[string]any{"service_account": sa.ID}}
	if strings.Contains(sa.UserID, "@") {
		out.Email = sa.UserID
	}
	return out
}

// SetCookieFor turns a verified token presented in the query into this
// host's session cookie (the portal does so to keep the token out of
// later URLs).
func (s *Service) SetCookieFor(w http.ResponseWriter, r *http.Request, tok string) bool {
	c, err := s.keys.Verify(tok)
	if err != nil || c.SessionID == "" {
		return false
	}
	s.setSessionCookie(w, r, c.SessionID)
	return true
}
