package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/porthole-dev/porthole/server/store"
)

// idTokenTTL is the life of an ID token, as Zero's (expiresInSeconds 3600).
const idTokenTTL = time.Hour

// idClaims are an ID token's claims. Fingerprint ties it to the API
// user's current secret, so renewing or revoking the user ends the ID
// tokens issued before.
type idClaims struct {
	Subject     string `json:"sub"`
	Fingerprint string `json:"fp"`
	Kind        string `json:"knd"`
	IssuedAt    int64  `json:"iat"`
	Expiry      int64  `json:"exp"`
}

const idTokenKind = "api-id"

func fingerprint(secretHash string) string {
	h := sha256.Sum256([]byte(secretHash))
	return hex.EncodeToString(h[:8])
}

func (a *API) issueIDToken(u *store.APIUser) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: a.opts.TokenKey}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("making the ID token signer: %w", err)
	}
	now := a.now()
	c := idClaims{Subject: u.ID, Fingerprint: fingerprint(u.SecretHash), Kind: idTokenKind,
		IssuedAt: now.Unix(), Expiry: now.Add(idTokenTTL).Unix()}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing the ID token: %w", err)
	}
	return tok, nil
}

var errBadIDToken = errors.New("not a valid ID token")

// verifyIDToken returns the API user an ID token belongs to.
func (a *API) verifyIDToken(r *http.Request, tok string) (*store.APIUser, error) {
	t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return nil, errBadIDToken
	}
	var c idClaims
	if err := t.Claims(a.opts.TokenKey, &c); err != nil {
		return nil, errBadIDToken
	}
	if c.Kind != idTokenKind || c.Subject == "" || a.now().Unix() >= c.Expiry {
		return nil, errBadIDToken
	}
	u, err := store.APIUsers.Get(r.Context(), a.st, c.Subject)
	if isNotFound(err) {
		return nil, errBadIDToken
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || fingerprint(u.SecretHash) != c.Fingerprint {
		return nil, errBadIDToken
	}
	return u, nil
}

// authenticate finds the caller: an ID token in "Authorization: Bearer
// T" or the guide's bare "Authorization: T", or an admin's Pomerium
// session (cookie, "Pomerium T", "Bearer Pomerium-T",
// X-Pomerium-Authorization).
func (a *API) authenticate(r *http.Request) (principal, error) {
	ctx := r.Context()
	authz := strings.TrimSpace(r.Header.Get("Authorization"))
	var session string
	switch {
	case hasPrefixFold(authz, "Bearer Pomerium-"):
		session = authz[len("Bearer Pomerium-"):]
	case hasPrefixFold(authz, "Pomerium "):
		session = authz[len("Pomerium "):]
	case authz != "":
		tok := authz
		if hasPrefixFold(authz, "Bearer ") {
			tok = strings.TrimSpace(authz[len("Bearer "):])
		}
		u, err := a.verifyIDToken(r, tok)
		if err == nil {
			return principal{UserID: u.ID, Email: u.Email}, nil
		}
		if !errors.Is(err, errBadIDToken) {
			return principal{}, err
		}
		session = tok // perhaps a bare session token
	case r.Header.Get("X-Pomerium-Authorization") != "":
		session = strings.TrimSpace(r.Header.Get("X-Pomerium-Authorization"))
	default:
		if c, err := r.Cookie("_pomerium"); err == nil {
			session = c.Value
		}
	}
	if session == "" || a.opts.VerifySession == nil {
		return principal{}, errUnauthenticated
	}
	id, err := a.opts.VerifySession(ctx, session)
	if err != nil || id == nil {
		return principal{}, errUnauthenticated
	}
	if !a.isAdmin(id) {
		return principal{}, errorf(http.StatusForbidden,
			"%s is not an API admin (the config's api_admins lists who is; API users may always call)", id.Email)
	}
	return principal{UserID: id.User, Email: id.Email}, nil
}

func (a *API) isAdmin(id *Identity) bool {
	for _, adm := range a.opts.Admins {
		if adm == "" {
			continue
		}
		if strings.EqualFold(adm, id.Email) || adm == id.User || slices.Contains(id.Groups, adm) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
