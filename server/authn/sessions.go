package authn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/porthole-dev/porthole/server/session"
)

var errNoSession = errors.New("no valid session")

func (sess *Session) claims() *session.Claims {
	return &session.Claims{Subject: sess.UserID, Email: sess.Email, Groups: sess.Groups, Claims: sess.Claims,
		SessionID: sess.ID}
}

// loadSession is the stored session id, refreshed at the IdP when its
// tokens are about to expire; a session past cookie_expire or whose
// refresh the IdP refused is deleted, which signs it out everywhere.
func (s *Service) loadSession(ctx context.Context, id string) (*Session, error) {
	sess, err := s.store.GetSession(ctx, id)
	if err != nil {
		return nil, errNoSession
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) {
		s.endSession(ctx, sess, "cookie_expire reached")
		return nil, errNoSession
	}
	if sess.TokenExpiry.IsZero() || now.Before(refreshAt(sess)) {
		return sess, nil
	}
	return s.refresh(ctx, id)
}

// refreshAt is when a session's IdP tokens should be renewed: a quarter
// of their lifetime (at most a minute) before they expire.
func refreshAt(sess *Session) time.Time {
	from := sess.RefreshedAt
	if from.IsZero() {
		from = sess.IssuedAt
	}
	margin := min(time.Minute, sess.TokenExpiry.Sub(from)/4)
	return sess.TokenExpiry.Add(-margin)
}

func (s *Service) sessionLock(id string) func() {
	s.refreshMu.Lock()
	mu := s.refreshing[id]
	if mu == nil {
		mu = &sync.Mutex{}
		s.refreshing[id] = mu
	}
	s.refreshMu.Unlock()
	mu.Lock()
	return func() {
		mu.Unlock()
		s.refreshMu.Lock()
		if s.refreshing[id] == mu && mu.TryLock() {
			delete(s.refreshing, id)
			mu.Unlock()
		}
		s.refreshMu.Unlock()
	}
}

func (s *Service) refresh(ctx context.Context, id string) (*Session, error) {
	unlock := s.sessionLock(id)
	defer unlock()
	// Another request (or replica) may have refreshed it meanwhile.
	sess, err := s.store.GetSession(ctx, id)
	if err != nil {
		return nil, errNoSession
	}
	now := s.now()
	if now.Before(refreshAt(sess)) {
		return sess, nil
	}
	if sess.RefreshToken == "" {
		if now.Before(sess.TokenExpiry) {
			return sess, nil
		}
		s.endSession(ctx, sess, "identity provider token expired and no refresh token")
		return nil, errNoSession
	}
	p, err := s.idp.get(ctx)
	if err == nil {
		var tok *oauth2.Token
		tok, err = s.idp.oauth2(p, "").TokenSource(s.idp.ctx(ctx), &oauth2.Token{RefreshToken: sess.RefreshToken, Expiry: now.Add(-time.Second)}).Token()
		if err == nil {
			return s.saveRefreshed(ctx, p, sess, tok)
		}
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The provider answered: the user or the grant is gone. But a
		// replica may have used (and rotated) the refresh token first.
		if cur, gerr := s.store.GetSession(ctx, id); gerr == nil && cur.RefreshToken != sess.RefreshToken {
			return cur, nil
		}
		s.log.Info("session ended: the identity provider refused to refresh it", "user", sess.Email, "err", err)
		s.endSession(ctx, sess, "refresh refused")
		return nil, errNoSession
	}
	if now.After(sess.TokenExpiry.Add(refreshGrace)) {
		s.log.Warn("session ended: could not refresh it at the identity provider", "user", sess.Email, "err", err)
		s.endSession(ctx, sess, "refresh failed")
		return nil, errNoSession
	}
	s.log.Warn("refreshing a session failed; retrying on the next request", "user", sess.Email, "err", err)
	return sess, nil
}

func (s *Service) saveRefreshed(ctx context.Context, p *oidc.Provider, sess *Session, tok *oauth2.Token) (*Session, error) {
	next := *sess
	next.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	next.TokenExpiry = tokenExpiry(tok, s.now())
	next.RefreshedAt = s.now()
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
		idt, err := s.idp.verifier(p).Verify(s.idp.ctx(ctx), raw)
		if err != nil || idt.Subject != sess.UserID {
			s.log.Info("session ended: the refreshed id token is not valid for this user", "user", sess.Email, "err", err)
			s.endSession(ctx, sess, "bad refreshed id token")
			return nil, errNoSession
		}
		all := map[string]any{}
		if err := idt.Claims(&all); err == nil {
			s.mergeUserinfo(ctx, p, tok, idt.Subject, all)
			next.IDToken = raw
			fillClaims(&next, all)
		}
	}
	if err := s.store.PutSession(ctx, &next); err != nil {
		if cur, gerr := s.store.GetSession(ctx, sess.ID); gerr == nil {
			return cur, nil
		}
		return nil, fmt.Errorf("saving the refreshed session: %w", err)
	}
	return &next, nil
}

// endSession deletes a session: every cookie and CLI token of it stops
// working on every host and replica.
func (s *Service) endSession(ctx context.Context, sess *Session, reason string) {
	if err := s.store.DeleteSession(ctx, sess.ID); err != nil {
		s.log.Warn("deleting a session", "user", sess.Email, "err", err)
	}
	if _, err := s.store.Revoke(ctx, sess.ID, sess.UserID, reason, sess.ExpiresAt); err != nil {
		s.log.Warn("recording a revoked session", "user", sess.Email, "err", err)
	}
}

func tokenExpiry(tok *oauth2.Token, now time.Time) time.Time {
	if tok.Expiry.IsZero() {
		return time.Time{}
	}
	return tok.Expiry
}

// standardClaims are dropped from the stored claims: they describe the
// token, not the user.
var standardClaims = []string{"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "auth_time", "azp", "sid", "jti"}

func fillClaims(sess *Session, all map[string]any) {
	for _, k := range standardClaims {
		delete(all, k)
	}
	sess.Claims = all
	sess.Email, _ = all["email"].(string)
	sess.Name, _ = all["name"].(string)
	sess.Groups = nil
	if gs, ok := all["groups"].([]any); ok {
		for _, g := range gs {
			if v, ok := g.(string); ok {
				sess.Groups = append(sess.Groups, v)
			}
		}
	}
}

// mergeUserinfo adds userinfo claims the ID token lacks, only when the
// userinfo's sub is the ID token's (OpenID Connect Core 5.3.2): a
// mismatched answer may be another user's and is dropped.
func (s *Service) mergeUserinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, sub string, all map[string]any) {
	if p.UserInfoEndpoint() == "" {
		return
	}
	ui, err := p.UserInfo(s.idp.ctx(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		s.log.Warn("userinfo request failed; using the id token's claims only", "err", err)
		return
	}
	if ui.Subject != sub {
		s.log.Warn("userinfo ignored: its sub differs from the id token's", "id_token_sub", sub, "userinfo_sub", ui.Subject)
		return
	}
	extra := map[string]any{}
	if err := ui.Claims(&extra); err != nil {
		s.log.Warn("userinfo claims unreadable", "err", err)
		return
	}
	for k, v := range extra {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
}

// IssueToken stores a session for c valid for ttl and returns a CLI
// token for it (tests; and service paths that start sessions in code).
func (s *Service) IssueToken(ctx context.Context, c session.Claims, ttl time.Duration) (string, error) {
	now := s.now()
	sess := &Session{ID: randomString(), UserID: c.Subject, Email: c.Email, Groups: c.Groups, Claims: c.Claims,
		IssuedAt: now, ExpiresAt: now.Add(ttl)}
	if ttl > 0 {
		if err := s.store.PutSession(ctx, sess); err != nil {
			return "", fmt.Errorf("storing the session: %w", err)
		}
	}
	return s.cliToken(sess, ttl)
}

func (s *Service) cliToken(sess *Session, ttl time.Duration) (string, error) {
	return s.keys.Issue(session.Claims{Subject: sess.UserID, Email: sess.Email, SessionID: sess.ID, TokenID: randomString()}, ttl)
}
