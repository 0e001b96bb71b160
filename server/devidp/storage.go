package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes of the in-memory state (accessTokenTTL is the default of
// Options.TokenTTL).
const (
	authRequestTTL = 10 * time.Minute
	accessTokenTTL = time.Hour
)

var errNotFound = errors.New("not found")

// authRequest is one pending or completed authorization request.
type authRequest struct {
	id        string
	created   time.Time
	req       oidc.AuthRequest
	subject   string // set once a user is chosen
	authTime  time.Time
	done      bool
	challenge *oidc.CodeChallenge
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.req.ClientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.req.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string                { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                   { return a.req.Scopes }
func (a *authRequest) GetState() string                      { return a.req.State }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// accessToken is what an opaque access token id stands for.
type accessToken struct {
	subject string
	client  string
	scopes  []string
	expires time.Time
}

// storage implements op.Storage in memory for one client and a fixed set of
// users. Codes are single use: AuthRequestByCode is followed by
// DeleteAuthRequest in the token exchange.
type storage struct {
	client   *client
	users    map[string]User // by subject
	key      signingKey
	now      func() time.Time
	ttl      time.Duration // access and ID tokens
	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code -> request id
	tokens   map[string]accessToken
	refresh  map[string]refreshToken
	disabled map[string]bool // by subject
	ended    map[string]int  // end_session calls by subject
}

// refreshToken is what a refresh token stands for. Each use replaces it
// with a new one (rotation), as careful providers do.
type refreshToken struct {
	subject  string
	client   string
	scopes   []string
	amr      []string
	authTime time.Time
}

func (r *refreshToken) GetAMR() []string            { return r.amr }
func (r *refreshToken) GetAudience() []string       { return []string{r.client} }
func (r *refreshToken) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshToken) GetClientID() string         { return r.client }
func (r *refreshToken) GetScopes() []string         { return r.scopes }
func (r *refreshToken) GetSubject() string          { return r.subject }
func (r *refreshToken) SetCurrentScopes(s []string) { r.scopes = s }

func (s *storage) setDisabled(sub string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[sub] = disabled
	if !disabled {
		return
	}
	for id, t := range s.tokens {
		if t.subject == sub {
			delete(s.tokens, id)
		}
	}
	for id, t := range s.refresh {
		if t.subject == sub {
			delete(s.refresh, id)
		}
	}
}

func (s *storage) isDisabled(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disabled[sub]
}

func (s *storage) signOuts(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended[sub]
}

func newID() string { return rand.Text() }

func (s *storage) userBySubject(sub string) (User, bool) {
	u, ok := s.users[sub]
	return u, ok
}

// CreateAuthRequest refuses requests without an S256 PKCE challenge: the
// dev provider demands what a careful production provider would.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	a := &authRequest{
		id:        newID(),
		created:   s.now(),
		req:       *req,
		challenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gcLocked()
	s.requests[a.id] = a
	return a, nil
}

// gcLocked drops expired requests and tokens so a long-running dev server
// does not grow without bound.
func (s *storage) gcLocked() {
	now := s.now()
	for id, a := range s.requests {
		if now.Sub(a.created) > authRequestTTL {
			delete(s.requests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.requests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || s.now().Sub(a.created) > authRequestTTL {
		return nil, fmt.Errorf("auth request %q: %w", id, errNotFound)
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("auth code: %w", errNotFound)
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return fmt.Errorf("auth request %q: %w", id, errNotFound)
	}
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// completeLogin marks the request as signed in by the user with subject sub.
func (s *storage) completeLogin(id, sub string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || s.now().Sub(a.created) > authRequestTTL {
		return fmt.Errorf("sign-in request %q is unknown or expired: start the sign-in again", id)
	}
	// A finished request cannot be re-used to switch users under a code
	// that may already be on its way to the client.
	if a.done {
		return fmt.Errorf("sign-in request %q is already complete: start the sign-in again", id)
	}
	if s.disabled[sub] {
		return fmt.Errorf("dev user %s is disabled", s.users[sub].Email)
	}
	a.subject = sub
	a.authTime = s.now()
	a.done = true
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := s.newAccessTokenLocked(req)
	return id, exp, nil
}

func (s *storage) newAccessTokenLocked(req op.TokenRequest) (string, time.Time) {
	t := accessToken{subject: req.GetSubject(), scopes: req.GetScopes(), expires: s.now().Add(s.ttl)}
	switch a := req.(type) {
	case *authRequest:
		t.client = a.GetClientID()
	case *refreshToken:
		t.client = a.client
	}
	id := newID()
	s.tokens[id] = t
	return id, t.expires
}

// CreateAccessAndRefreshTokens issues both for a code asked with
// offline_access, or rotates currentRefresh on a refresh grant.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, currentRefresh string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disabled[req.GetSubject()] {
		return "", "", time.Time{}, op.ErrInvalidRefreshToken
	}
	rt := refreshToken{subject: req.GetSubject(), scopes: req.GetScopes()}
	switch a := req.(type) {
	case *authRequest:
		rt.client, rt.amr, rt.authTime = a.GetClientID(), a.GetAMR(), a.GetAuthTime()
	case *refreshToken:
		if _, ok := s.refresh[currentRefresh]; !ok {
			return "", "", time.Time{}, op.ErrInvalidRefreshToken
		}
		delete(s.refresh, currentRefresh)
		rt.client, rt.amr, rt.authTime = a.client, a.amr, a.authTime
	}
	id, exp := s.newAccessTokenLocked(req)
	refresh := newID()
	s.refresh[refresh] = rt
	return id, refresh, exp, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[token]
	if !ok || s.disabled[rt.subject] {
		return nil, op.ErrInvalidRefreshToken
	}
	return &rt, nil
}

// TerminateSession is RP-initiated logout (end_session with a valid
// id_token_hint): the user's refresh tokens die and the call is counted.
func (s *storage) TerminateSession(_ context.Context, sub, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended == nil {
		s.ended = map[string]int{}
	}
	s.ended[sub]++
	for id, t := range s.refresh {
		if t.subject == sub {
			delete(s.refresh, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.alg}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.id {
		return nil, fmt.Errorf("client %q: %w", id, errNotFound)
	}
	return s.client, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || !constantTimeEqual(secret, s.client.secret) {
		return errors.New("invalid client_id or client_secret")
	}
	return nil
}

// setUserinfo fills every claim whatever the scopes: relying parties of the
// dev provider differ in what they ask for, and the claims are not secret.
func (s *storage) setUserinfo(info *oidc.UserInfo, sub string) error {
	u, ok := s.userBySubject(sub)
	if !ok {
		return fmt.Errorf("user %q: %w", sub, errNotFound)
	}
	if s.isDisabled(sub) {
		return fmt.Errorf("user %q is disabled", u.Email)
	}
	info.Subject = sub
	info.Email = u.Email
	info.EmailVerified = oidc.Bool(true)
	info.Name = u.Name
	info.PreferredUsername = u.Email
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	info.AppendClaims("groups", groups)
	return nil
}

func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, sub, _ string, _ []string) error {
	return s.setUserinfo(info, sub)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, sub, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != sub || s.now().After(t.expires) {
		return errors.New("access token is unknown or expired")
	}
	return s.setUserinfo(info, sub)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, sub, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != sub || s.now().After(t.expires) {
		return errors.New("access token is unknown or expired")
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(info, sub); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = clientID
	resp.Active = true
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile is not supported by the dev provider")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile is not supported by the dev provider")
}

func (s *storage) Health(context.Context) error { return nil }

// client is the one confidential web client of the dev provider.
type client struct {
	id, secret   string
	redirectURIs []string
	postLogout   []string
	loginURL     func(id string) string
	ttl          time.Duration
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return slices.Clone(c.redirectURIs) }
func (c *client) PostLogoutRedirectURIs() []string    { return slices.Clone(c.postLogout) }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string            { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return c.ttl }
func (c *client) DevMode() bool                        { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// subjectFor derives a stable subject from an email so the same dev user
// keeps the same sub across restarts.
func subjectFor(email string) string {
	return "dev-" + strings.ToLower(strings.TrimSpace(email))
}
