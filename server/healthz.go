package server

import (
	"io"
	"net/http"
)

// handleHealthz answers 200 "ok", except that an explicit Pomerium
// credential (header or query, never a browser cookie) that does not
// verify gets 401: pomerium-cli's `auth` and `k8s exec-credential` check
// a cached token this way before handing it out.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if a := s.authenticate(r); a.session == nil && a.explicit() {
		http.Error(w, "invalid or expired credentials", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}
