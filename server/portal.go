package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/porthole-dev/porthole/server/portal"
)

// wantsJSON reports whether the client asked for JSON (an API client,
// never a browser navigation).
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (s *Server) handleRoutesAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	a := s.authenticate(r)
	if a.session == nil {
		if wantsJSON(r) || a.explicit() {
			writeJSONError(w, http.StatusUnauthorized, "Unauthenticated")
			return
		}
		redirectToSignIn(w, r)
		return
	}
	var buf bytes.Buffer
	if err := portal.WriteJSON(&buf, portal.Entries(s.table.Load().Routes(), a.identity())); err != nil {
		logErr(s.log, "routes api", err)
		writeJSONError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (s *Server) handleRoutesPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	a := s.authenticate(r)
	if a.session == nil {
		if a.explicit() {
			http.Error(w, "invalid or expired session; sign in again", http.StatusUnauthorized)
			return
		}
		redirectToSignIn(w, r)
		return
	}
	// A session passed in the query becomes a cookie so that links and
	// the filter keep working without the token in every URL.
	// It then redirects to the same page without the token, keeping it
	// out of the browser history and the address bar.
	if a.source == credQuery {
		s.auth().SetCookieFor(w, r, a.token)
		u := *r.URL
		stripCredentials(http.Header{}, &u)
		http.Redirect(w, r, u.RequestURI(), http.StatusFound)
		return
	}
	var buf bytes.Buffer
	nonce := rand.Text()
	err := portal.WriteHTML(&buf, portal.PageData{
		User: a.session.Email, SignOutURL: "/.pomerium/sign_out",
		Entries: portal.Entries(s.table.Load().Routes(), a.identity()), Nonce: nonce,
	})
	if err != nil {
		logErr(s.log, "routes page", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", portal.ContentSecurityPolicy(nonce))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(buf.Bytes())
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.keys.JWKS())
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}
