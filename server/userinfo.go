package server

import (
	"encoding/json"
	"net/http"
)

// handleUserInfo is Pomerium's GET /.pomerium/user: the signed-in user's
// part of the JWT assertion (sub, user, email, groups, sid, name) as a
// JSON object. Like Pomerium it answers 404 when there is no session; an
// explicit credential that does not verify gets 401, as on /healthz, so a
// client learns with this one request whether its token is accepted
// (pomerium-cli status).
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	a := s.authenticate(r)
	switch {
	case a.session == nil && a.explicit():
		http.Error(w, "invalid or expired credentials", http.StatusUnauthorized)
		return
	case a.session == nil || a.session.Subject == "":
		http.Error(w, http.StatusText(http.StatusNotFound), http.StatusNotFound)
		return
	}
	b, err := json.Marshal(a.session.UserInfo())
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
