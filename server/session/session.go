// Package session holds pomerium-server's keys and the tokens made with
// them: the pomerium_jwt handed to clients (a signed reference to a stored
// session), the encrypted session cookie (AES-GCM, cookie_secret),
// short-lived sign-in state, the single-use handoff from the authenticate
// host to a route host, and the ES256 X-Pomerium-Jwt-Assertion whose
// public key is published as a JWKS.
//
//	k, _ := session.NewKeys(nil) // random keys: tokens die with the process
//	tok, _ := k.Issue(session.Claims{Subject: "u1", Email: "a@b.c"}, 14*time.Hour)
//	c, err := k.Verify(tok)
package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ErrInvalid is returned for a token that is malformed, forged or expired.
var ErrInvalid = errors.New("invalid or expired token")

// Claims is what a session holds.
type Claims struct {
	Subject string         `json:"sub"`
	Email   string         `json:"email,omitempty"`
	Groups  []string       `json:"groups,omitempty"`
	Claims  map[string]any `json:"claims,omitempty"`
	Issued  int64          `json:"iat"`
	Expiry  int64          `json:"exp"`
	// SessionID names the stored session the token stands for and TokenID
	// this one token (a CLI logout revokes just it).
	SessionID string `json:"sid,omitempty"`
	TokenID   string `json:"jti,omitempty"`
	// ServiceAccount names the service account a token stands for.
	ServiceAccount string `json:"sa,omitempty"`
	// Kind separates session tokens from sign-in state tokens signed by
	// the same key, so one can never be replayed as the other.
	Kind string `json:"knd"`
}

// State is the short-lived sign-in state kept in the CSRF cookie.
type State struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Redirect string `json:"redirect"`     // where to go after sign-in
	Program  bool   `json:"programmatic"` // append pomerium_jwt to Redirect
	Expiry   int64  `json:"exp"`
	Kind     string `json:"knd"`
}

// Handoff is what the authenticate host hands a route host after sign-in:
// a session reference for one host (Audience), tied to the route host's
// sign-in State, valid for seconds and only once (ID).
type Handoff struct {
	ID        string `json:"jti"`
	SessionID string `json:"sid"`
	Audience  string `json:"aud"`
	State     string `json:"state"`
	Expiry    int64  `json:"exp"`
	Kind      string `json:"knd"`
}

// Keys holds the HMAC key for sessions, the cookie AEAD and the ES256
// assertion key.
type Keys struct {
	hmacKey   []byte
	cookie    cipher.AEAD
	sessions  jose.Signer
	assertKey *ecdsa.PrivateKey
	assertKID string
	assertion jose.Signer
	now       func() time.Time

	// verified holds tokens whose signature checked out: a CLI sends the
	// same token on every tunnel it opens, and parsing and checking it
	// again (go-jose's JSON decoding) was about a tenth of the server's
	// CPU per new tunnel. Only signed tokens get in; expiry is checked on
	// every use; the set is dropped whole when it reaches verifiedMax.
	verifiedMu sync.Mutex
	verified   map[string]*Claims
}

const verifiedMax = 4096

// NewKeys derives the session key from secret (any length, e.g. the
// decoded shared_secret) or makes a random one when secret is empty. The
// assertion key is always fresh; upstreams fetch it from the JWKS.
func NewKeys(secret []byte) (*Keys, error) {
	k := &Keys{now: time.Now}
	if len(secret) == 0 {
		k.hmacKey = make([]byte, 32)
		if _, err := rand.Read(k.hmacKey); err != nil {
			return nil, fmt.Errorf("generating session key: %w", err)
		}
	} else {
		k.hmacKey = derive(secret, "pomerium-server session key v1")
	}
	if err := k.UseCookieSecret(derive(k.hmacKey, "pomerium-server cookie key v1")); err != nil {
		return nil, err
	}
	var err error
	k.sessions, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: k.hmacKey}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("making session signer: %w", err)
	}
	if k.assertKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("generating assertion key: %w", err)
	}
	sum := sha256.Sum256(elliptic.MarshalCompressed(elliptic.P256(), k.assertKey.X, k.assertKey.Y))
	k.assertKID = hex.EncodeToString(sum[:8])
	k.assertion, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.assertKey, KeyID: k.assertKID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("making assertion signer: %w", err)
	}
	return k, nil
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// UseCookieSecret sets the key that encrypts session cookies (the
// decoded cookie_secret; replicas must share it).
func (k *Keys) UseCookieSecret(secret []byte) error {
	block, err := aes.NewCipher(derive(secret, "pomerium-server cookie aes-gcm v1"))
	if err != nil {
		return fmt.Errorf("making cookie cipher: %w", err)
	}
	if k.cookie, err = cipher.NewGCM(block); err != nil {
		return fmt.Errorf("making cookie cipher: %w", err)
	}
	return nil
}

// SealCookie encrypts a session id for the cookie of host: the cookie is
// opaque and cannot be carried to another host.
func (k *Keys) SealCookie(sessionID, host string) string {
	nonce := make([]byte, k.cookie.NonceSize(), k.cookie.NonceSize()+len(sessionID)+k.cookie.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(k.cookie.Seal(nonce, nonce, []byte(sessionID), []byte(host)))
}

// OpenCookie is the session id inside a cookie sealed for host.
func (k *Keys) OpenCookie(v, host string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < k.cookie.NonceSize()+k.cookie.Overhead() || len(b) > 512 {
		return "", ErrInvalid
	}
	n := k.cookie.NonceSize()
	id, err := k.cookie.Open(nil, b[:n], b[n:], []byte(host))
	if err != nil {
		return "", ErrInvalid
	}
	return string(id), nil
}

// SealHandoff signs a handoff valid for ttl.
func (k *Keys) SealHandoff(h Handoff, ttl time.Duration) (string, error) {
	h.Expiry, h.Kind = k.now().Add(ttl).Unix(), "handoff"
	return k.sign(h)
}

// OpenHandoff verifies a handoff's signature, kind and expiry (the caller
// checks its audience, state and single use).
func (k *Keys) OpenHandoff(token string) (*Handoff, error) {
	var h Handoff
	if err := k.parse(token, &h); err != nil {
		return nil, err
	}
	if h.Kind != "handoff" || h.ID == "" || h.SessionID == "" || k.now().Unix() >= h.Expiry {
		return nil, ErrInvalid
	}
	return &h, nil
}

// SetClock replaces time.Now (tests).
func (k *Keys) SetClock(now func() time.Time) { k.now = now }

// Issue signs a session valid for ttl.
func (k *Keys) Issue(c Claims, ttl time.Duration) (string, error) {
	now := k.now()
	c.Issued, c.Expiry, c.Kind = now.Unix(), now.Add(ttl).Unix(), "session"
	return k.sign(c)
}

// Verify checks a session token's signature, kind and expiry.
func (k *Keys) Verify(token string) (*Claims, error) {
	k.verifiedMu.Lock()
	hit := k.verified[token]
	k.verifiedMu.Unlock()
	if hit != nil {
		if k.now().Unix() >= hit.Expiry {
			return nil, ErrInvalid
		}
		return hit.clone(), nil
	}
	var c Claims
	if err := k.parse(token, &c); err != nil {
		return nil, err
	}
	if c.Kind != "session" || c.Subject == "" || k.now().Unix() >= c.Expiry {
		return nil, ErrInvalid
	}
	k.verifiedMu.Lock()
	if k.verified == nil || len(k.verified) >= verifiedMax {
		k.verified = map[string]*Claims{}
	}
	k.verified[token] = c.clone()
	k.verifiedMu.Unlock()
	return &c, nil
}

// clone is a copy a caller may change without touching the original.
func (c *Claims) clone() *Claims {
	cp := *c
	cp.Groups = slices.Clone(c.Groups)
	cp.Claims = maps.Clone(c.Claims)
	return &cp
}

// SealState signs sign-in state valid for ttl.
func (k *Keys) SealState(s State, ttl time.Duration) (string, error) {
	s.Expiry, s.Kind = k.now().Add(ttl).Unix(), "state"
	return k.sign(s)
}

// OpenState verifies sign-in state.
func (k *Keys) OpenState(token string) (*State, error) {
	var s State
	if err := k.parse(token, &s); err != nil {
		return nil, err
	}
	if s.Kind != "state" || k.now().Unix() >= s.Expiry {
		return nil, ErrInvalid
	}
	return &s, nil
}

func (k *Keys) sign(v any) (string, error) {
	tok, err := jwt.Signed(k.sessions).Claims(v).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return tok, nil
}

func (k *Keys) parse(token string, v any) error {
	t, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return ErrInvalid
	}
	if err := t.Claims(k.hmacKey, v); err != nil {
		return ErrInvalid
	}
	return nil
}

// Assertion is the X-Pomerium-Jwt-Assertion for an upstream.
func (k *Keys) Assertion(issuer, audience string, c *Claims, ttl time.Duration) (string, error) {
	now := k.now()
	claims := map[string]any{
		"iss": issuer, "aud": audience,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	}
	if c != nil {
		for k, v := range c.UserInfo() {
			claims[k] = v
		}
	}
	tok, err := jwt.Signed(k.assertion).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing assertion: %w", err)
	}
	return tok, nil
}

// JWKS is the public assertion key set.
func (k *Keys) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &k.assertKey.PublicKey, KeyID: k.assertKID, Algorithm: string(jose.ES256), Use: "sig",
	}}}
}
