package authn

import (
	"html/template"
	"net/http"
	"net/url"
)

var signOutPage = template.Must(template.New("signout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title>
<style>body{font-family:system-ui,sans-serif;margin:4rem auto;max-width:28rem}button{font:inherit;padding:.5rem 1rem}</style></head>
<body><h1>Sign out{{if .User}} {{.User}}{{end}}?</h1>
<p>This ends your session on every host of this server and every command-line token of it.</p>
<form method="post" action="/.pomerium/sign_out"><button type="submit">Sign out</button></form>
</body></html>
`))

var signedOutPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head>
<body style="font-family:system-ui,sans-serif;margin:4rem auto;max-width:28rem"><h1>You are signed out.</h1>
<p><a href="/.pomerium/routes">Sign in again</a></p></body></html>
`

func noStore(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
}

// handleSignOut is GET (one confirmation form, as Pomerium shows) and
// POST on any host: the session is deleted, so every host's cookie and
// every CLI token of it stop working, then the browser goes to the IdP's
// end_session_endpoint (id_token_hint, post_logout_redirect_uri) when it
// has one. The session cookie is SameSite=Lax: a cross-site POST carries
// none and signs nobody out.
func (s *Service) handleSignOut(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		user := ""
		if a := s.Authenticate(r); a.Session != nil {
			user = a.Session.Email
		}
		noStore(w)
		signOutPage.Execute(w, struct{ User string }{user})
		return
	case http.MethodPost:
	default:
		methodNotAllowed(w, "GET, POST")
		return
	}
	clearCookie(w, SessionCookie, "/")
	idToken := ""
	if sid := s.presentedSession(r); sid != "" {
		if sess, err := s.store.GetSession(r.Context(), sid); err == nil {
			idToken = sess.IDToken
			s.endSession(r.Context(), sess, "sign_out")
			s.log.Info("signed out", "user", sess.Email)
		}
	}
	after := s.opts.SignOutRedirectURL
	if after == "" {
		after = s.authURL(r, pathSignedOut, nil)
	}
	if idToken != "" {
		// Discovery may still be under way (just started, or the provider
		// changed on a reload): finish it now rather than skip the
		// provider's sign-out. A provider that cannot be reached is
		// skipped; the session here is ended either way.
		s.idp.get(r.Context())
	}
	if end := s.idp.endSessionURL(); end != "" && idToken != "" {
		u, err := url.Parse(end)
		if err == nil {
			q := u.Query()
			q.Set("id_token_hint", idToken)
			q.Set("post_logout_redirect_uri", after)
			q.Set("client_id", s.opts.IdP.ClientID)
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusFound)
			return
		}
	}
	http.Redirect(w, r, after, http.StatusFound)
}

// presentedSession is the session id r's cookie or token names, valid
// or not yet refreshed.
func (s *Service) presentedSession(r *http.Request) string {
	tok, src := Token(r)
	if src == CredNone {
		return ""
	}
	if src == CredCookie {
		if sid, err := s.keys.OpenCookie(tok, hostOnly(r.Host)); err == nil {
			return sid
		}
	}
	if c, err := s.keys.Verify(tok); err == nil {
		return c.SessionID
	}
	return ""
}

func (s *Service) handleSignedOut(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, SessionCookie, "/")
	noStore(w)
	w.Write([]byte(signedOutPage))
}
