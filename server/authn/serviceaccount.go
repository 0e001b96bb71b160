package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/porthole-dev/porthole/server/session"
	"github.com/porthole-dev/porthole/server/store"
)

// CreateServiceAccount stores a service account acting as user and
// returns its token, which exists only in the return value: the store
// keeps its hash (store.HashSecret). The token is a JWT signed with keys
// (pomerium-cli reads its expiry) naming the account; the server accepts
// it while the account exists, unexpired, with that hash. expires 0 means
// it does not expire. The management API creates accounts through this
// too.
func CreateServiceAccount(ctx context.Context, st Store, keys *session.Keys, user, description string, expires time.Duration, now time.Time) (*ServiceAccount, string, error) {
	if user == "" {
		return nil, "", errors.New("a service account needs a user (--user NAME)")
	}
	sa := &ServiceAccount{ID: serviceAccountID(), UserID: user, Description: description, CreatedAt: now}
	ttl := 100 * 365 * 24 * time.Hour
	if expires > 0 {
		sa.ExpiresAt = now.Add(expires)
		ttl = expires
	}
	tok, err := keys.Issue(session.Claims{Subject: user, ServiceAccount: sa.ID, TokenID: randomString()}, ttl)
	if err != nil {
		return nil, "", err
	}
	sa.SecretHash = store.HashSecret(tok)
	if err := st.PutServiceAccount(ctx, sa); err != nil {
		return nil, "", fmt.Errorf("storing the service account: %w", err)
	}
	return sa, tok, nil
}

// RevokeServiceAccount deletes a service account: its token stops
// working at once on every replica.
func RevokeServiceAccount(ctx context.Context, st Store, id string) error {
	if err := st.DeleteServiceAccount(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("no service account %q (list them with: pomerium-server service-account list)", id)
		}
		return fmt.Errorf("revoking service account %s: %w", id, err)
	}
	return nil
}

// serviceAccountID is random and never starts with "-": one ID in 64
// did, and `pomerium-server service-account revoke ID` took it for flags.
func serviceAccountID() string {
	for {
		if id := randomString()[:22]; id[0] != '-' {
			return id
		}
	}
}
