package authn

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/porthole-dev/porthole/server/redirect"
	"github.com/porthole-dev/porthole/server/session"
)

// handleSignIn starts a sign-in on any host. A browser (return: a path
// on this host) gets a state cookie here and goes to the authenticate
// host, which hands a session back to /.pomerium/callback. A programmatic
// sign-in (pomerium_redirect_uri) goes straight to the authenticate host.
func (s *Service) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	if v := q.Get("pomerium_redirect_uri"); v != "" {
		to, err := s.programmaticAuthURL(r, v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	ret := "/.pomerium/routes"
	if v := q.Get("return"); v != "" {
		loc, err := redirect.ReturnPath(v, r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ret = loc
	}
	st := session.State{State: randomString(), Redirect: ret}
	if err := s.setState(w, pathCallback, st); err != nil {
		s.internalError(w, "sign-in", err)
		return
	}
	back := url.URL{Scheme: "https", Host: r.Host, Path: pathCallback}
	http.Redirect(w, r, s.authURL(r, pathAuthenticate, url.Values{"redirect_uri": {back.String()}, "state": {st.State}}), http.StatusFound)
}

// handoffTarget is where the authenticate host may send a handoff:
// https://<a host served here>/.pomerium/callback, nothing else.
func (s *Service) handoffTarget(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Path != pathCallback || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("redirect_uri must be https://<route host>%s", pathCallback)
	}
	if !s.opts.KnownHost(u.Host) {
		return nil, fmt.Errorf("redirect_uri host %q is not served by this server", u.Host)
	}
	return u, nil
}

// handleAuthenticate runs on the authenticate host: with a session there
// it finishes at once (single sign-on); otherwise it signs in at the IdP
// first and comes back here.
func (s *Service) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	if !s.isAuthenticateHost(r) {
		http.Error(w, "this is not the authenticate host", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	var finish func(*Session)
	if v := q.Get("pomerium_redirect_uri"); v != "" {
		u, err := redirect.Programmatic(v, s.opts.ProgrammaticWhitelist)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		finish = func(sess *Session) { s.finishProgrammatic(w, r, sess, u) }
	} else {
		u, err := s.handoffTarget(q.Get("redirect_uri"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		state := q.Get("state")
		if state == "" || len(state) > 256 {
			http.Error(w, "state is required", http.StatusBadRequest)
			return
		}
		finish = func(sess *Session) { s.finishHandoff(w, r, sess, u, state) }
	}
	if sess := s.cookieSession(r); sess != nil {
		finish(sess)
		return
	}
	s.startIdP(w, r, r.URL.RequestURI())
}

// cookieSession is the valid session of r's cookie on this host, or nil.
func (s *Service) cookieSession(r *http.Request) *Session {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	sid, err := s.keys.OpenCookie(c.Value, hostOnly(r.Host))
	if err != nil {
		return nil
	}
	sess, err := s.loadSession(r.Context(), sid)
	if err != nil {
		return nil
	}
	return sess
}

// startIdP sends the browser to the provider; after /oauth2/callback it
// comes back to next (a path on the authenticate host).
func (s *Service) startIdP(w http.ResponseWriter, r *http.Request, next string) {
	p, err := s.idp.get(r.Context())
	if err != nil {
		s.log.Warn("sign-in", "err", err)
		http.Error(w, "identity provider unavailable; try again shortly", http.StatusServiceUnavailable)
		return
	}
	st := session.State{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Redirect: next}
	if err := s.setState(w, PathOAuth2Callback, st); err != nil {
		s.internalError(w, "sign-in", err)
		return
	}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}, s.idp.authParams()...)
	http.Redirect(w, r, s.idp.oauth2(p, s.RedirectURI(r)).AuthCodeURL(st.State, opts...), http.StatusFound)
}

// handleOAuth2Callback finishes the IdP round trip: state against the
// CSRF cookie, code exchange with the PKCE verifier, ID token and nonce
// verification, userinfo, then a stored session and this host's cookie.
func (s *Service) handleOAuth2Callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		http.Error(w, "sign-in failed at the identity provider: "+printable(e+" "+q.Get("error_description")), http.StatusBadRequest)
		return
	}
	st, err := s.readState(r, q.Get("state"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	clearCookie(w, CSRFCookie, PathOAuth2Callback)
	sess, err := s.exchange(r, q.Get("code"), st)
	if err != nil {
		s.log.Warn("sign-in callback", "err", err)
		http.Error(w, "sign-in failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	if err := s.store.PutSession(r.Context(), sess); err != nil {
		s.internalError(w, "storing the session", err)
		return
	}
	s.log.Info("signed in", "user", sess.Email, "sub", sess.UserID, "refresh", sess.RefreshToken != "")
	s.setSessionCookie(w, r, sess.ID)
	next := st.Redirect
	if redirect.CheckLocalLocation(next) != nil {
		next = "/.pomerium/routes"
	}
	found(w, next)
}

func (s *Service) exchange(r *http.Request, code string, st *session.State) (*Session, error) {
	if code == "" {
		return nil, errors.New("no code in the callback")
	}
	ctx := r.Context()
	p, err := s.idp.get(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := s.idp.oauth2(p, s.RedirectURI(r)).Exchange(s.idp.ctx(ctx), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, errors.New("no id_token in the token response")
	}
	idt, err := s.idp.verifier(p).Verify(s.idp.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("verifying the id token: %w", err)
	}
	if idt.Nonce != st.Nonce {
		return nil, errors.New("id token nonce does not match")
	}
	all := map[string]any{}
	if err := idt.Claims(&all); err != nil {
		return nil, fmt.Errorf("reading id token claims: %w", err)
	}
	s.mergeUserinfo(ctx, p, tok, idt.Subject, all)
	now := s.now()
	sess := &Session{ID: randomString(), UserID: idt.Subject, IDToken: raw, AccessToken: tok.AccessToken,
		IssuedAt: now, ExpiresAt: now.Add(s.opts.CookieExpire)}
	fillClaims(sess, all)
	if tok.RefreshToken != "" {
		sess.RefreshToken = tok.RefreshToken
		sess.TokenExpiry = tokenExpiry(tok, now)
		if sess.TokenExpiry.After(sess.ExpiresAt) {
			sess.TokenExpiry = time.Time{}
		}
	}
	return sess, nil
}

// finishHandoff sends the browser to the route host with a handoff it
// can use once, within a minute, for its own cookie.
func (s *Service) finishHandoff(w http.ResponseWriter, r *http.Request, sess *Session, to *url.URL, state string) {
	h, err := s.keys.SealHandoff(session.Handoff{ID: randomString(), SessionID: sess.ID, Audience: strings.ToLower(to.Host), State: state}, handoffTTL)
	if err != nil {
		s.internalError(w, "handoff", err)
		return
	}
	u := *to
	u.RawQuery = url.Values{"pomerium_handoff": {h}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// handleCallback is a route host receiving a handoff: it must be for this
// host, match the state cookie this browser got at sign-in, be fresh and
// unused; then this host sets its own cookie.
func (s *Service) handleCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	h, err := s.keys.OpenHandoff(r.URL.Query().Get("pomerium_handoff"))
	if err != nil {
		http.Error(w, "sign-in handoff missing, expired or forged; start again", http.StatusBadRequest)
		return
	}
	st, err := s.readState(r, h.State)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !strings.EqualFold(h.Audience, r.Host) {
		http.Error(w, "sign-in handoff is for another host; start again", http.StatusBadRequest)
		return
	}
	fresh, err := s.store.Revoke(r.Context(), "handoff:"+h.ID, "", "handoff used", time.Unix(h.Expiry, 0))
	if err != nil {
		s.internalError(w, "handoff", err)
		return
	}
	if !fresh {
		http.Error(w, "sign-in handoff already used; start again", http.StatusBadRequest)
		return
	}
	if _, err := s.loadSession(r.Context(), h.SessionID); err != nil {
		http.Error(w, "the session ended meanwhile; sign in again", http.StatusBadRequest)
		return
	}
	clearCookie(w, CSRFCookie, pathCallback)
	s.setSessionCookie(w, r, h.SessionID)
	// The stored value is sent verbatim (http.Redirect would clean it
	// again), and checked again as it is what the browser follows.
	if err := redirect.CheckLocalLocation(st.Redirect); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	found(w, st.Redirect)
}

// found answers 302 to loc exactly as given.
func found(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// printable keeps text from the IdP to one bounded line.
func printable(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(v, "?"))
	if len(v) > 200 {
		v = v[:200] + "..."
	}
	return v
}
