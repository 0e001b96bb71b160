package authn

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkProgrammaticRedirect allows http(s) URLs to localhost, loopback
// IPs, or exactly a whitelisted host: no open redirect for tokens.
func (s *Service) checkProgrammaticRedirect(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("pomerium_redirect_uri %q must be an absolute http or https URL like http://127.0.0.1:PORT/", printable(v))
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return u, nil
	}
	for _, h := range s.opts.ProgrammaticWhitelist {
		if strings.EqualFold(h, host) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("pomerium_redirect_uri host %q is not allowed: use localhost or a loopback IP, or add it to programmatic_redirect_domain_whitelist", printable(host))
}

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
	u, err := s.checkProgrammaticRedirect(q.Get("pomerium_redirect_uri"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, s.authURL(r, pathAuthenticate, url.Values{"pomerium_redirect_uri": {u.String()}}))
}

// finishProgrammatic hands a CLI token for sess to the loopback callback.
// The token is its own revocable credential of the same session.
func (s *Service) finishProgrammatic(w http.ResponseWriter, r *http.Request, sess *Session, to *url.URL) {
	tok, err := s.cliToken(sess, sess.ExpiresAt.Sub(s.now()))
	if err != nil {
		s.internalError(w, "programmatic sign-in", err)
		return
	}
	u := *to
	q := u.Query()
	q.Set("pomerium_jwt", tok)
	u.RawQuery = q.Encode()
	s.log.Info("programmatic sign-in", "user", sess.Email)
	http.Redirect(w, r, u.String(), http.StatusFound)
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
