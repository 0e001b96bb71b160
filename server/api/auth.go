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

// authenticate finds the caller: an API user's ID token in
// "Authorization: Bearer T" or the guide's bare "Authorization: T", else
// an admin's Pomerium session as the server checks it (Authenticate). A
// browser cookie is not enough: every call must carry its credential in a
// header, so no other site can make a signed-in admin's browser call it.
func (a *API) authenticate(r *http.Request) (principal, error) {
	authz := strings.TrimSpace(r.Header.Get("Authorization"))
	if authz != "" && !hasPrefixFold(authz, "Pomerium ") && !hasPrefixFold(authz, "Bearer Pomerium-") {
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
	}
	if a.opts.Authenticate == nil {
		return principal{}, errUnauthenticated
	}
	hdrOnly := r.Clone(r.Context())
	hdrOnly.Header.Del("Cookie")
	hdrOnly.URL.RawQuery = ""
	id := a.opts.Authenticate(hdrOnly)
	if id == nil {
		return principal{}, errUnauthenticated
	}
	if !a.isAdmin(id) {
		return principal{}, errorf(http.StatusForbidden,
			"%s is not an API admin (the config's api_admins lists who is; API users may always call)", id.Email)
	}
	return principal{UserID: id.User, Email: id.Email}, nil
}

func (a *API) isAdmin(id *Identity) bool {
	for _, adm := range *a.admins.Load() {
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
