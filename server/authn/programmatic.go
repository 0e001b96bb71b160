package authn

import (
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/porthole-dev/porthole/server/redirect"
)

// handleLoginAPI is GET /.pomerium/api/v1/login?pomerium_redirect_uri=...
// on any host: the answer is the authenticate host's sign-in URL.
func (s *Service) handleLoginAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	if !q.Has("pomerium_redirect_uri") {
		http.Error(w, "pomerium_redirect_uri is required", http.StatusNotFound)
		return
	}
	to, err := s.programmaticAuthURL(r, q.Get("pomerium_redirect_uri"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, to)
}

// programmaticAuthURL checks a CLI's pomerium_redirect_uri (loopback or
// whitelisted) and is the authenticate host's sign-in URL for it: what
// the login API answers and where a programmatic sign-in redirects.
func (s *Service) programmaticAuthURL(r *http.Request, redirectURI string) (string, error) {
	u, err := redirect.Programmatic(redirectURI, s.opts.ProgrammaticWhitelist)
	if err != nil {
		return "", err
	}
	return s.authURL(r, pathAuthenticate, url.Values{"pomerium_redirect_uri": {u.String()}}), nil
}

// finishProgrammatic hands a CLI token for sess to the loopback callback.
// The token is its own revocable credential of the same session.
func (s *Service) finishProgrammatic(w http.ResponseWriter, r *http.Request, sess *Session, to *url.URL) {
	tok, err := s.cliToken(sess, sess.ExpiresAt.Sub(s.now()))
	if err != nil {
		s.internalError(w, "programmatic sign-in", err)
		return
	}
	// Checked again: the URL came through the IdP round trip.
	u, err := redirect.Programmatic(to.String(), s.opts.ProgrammaticWhitelist)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := u.Query()
	q.Set("pomerium_jwt", tok)
	u.RawQuery = q.Encode()
	s.log.Info("programmatic sign-in", "user", sess.Email)
	found(w, u.String())
}

// handleLogoutAPI is POST /.pomerium/api/v1/logout with a CLI token
// (pomerium-cli logout): that token stops working on every replica; the
// browser session it came from is left alone.
func (s *Service) handleLogoutAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	tok, src := Token(r)
	if src != CredHeader {
		http.Error(w, "send the token to revoke as Authorization: Pomerium <token>", http.StatusBadRequest)
		return
	}
	c, err := s.keys.Verify(tok)
	if err != nil || c.TokenID == "" || c.ServiceAccount != "" {
		http.Error(w, "invalid or expired token", http.StatusUnauthorized)
		return
	}
	if _, err := s.store.Revoke(r.Context(), c.TokenID, c.Subject, "logout", time.Unix(c.Expiry, 0)); err != nil {
		s.internalError(w, "logout", err)
		return
	}
	s.log.Info("token revoked", "user", c.Email)
	w.WriteHeader(http.StatusNoContent)
}
