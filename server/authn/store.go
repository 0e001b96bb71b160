package authn

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what a Store returns for a record it does not hold.
var ErrNotFound = errors.New("not found")

// Session is one sign-in at the identity provider. Every cookie (on the
// authenticate host and each route host) and every CLI token of it refers
// to it by ID, so deleting it signs the user out everywhere.
type Session struct {
	ID     string
	UserID string // the IdP subject, or the service account's user
	Email  string
	Name   string
	Groups []string
	Claims map[string]any
	// IdP tokens (the store keeps them encrypted).
	IDToken      string
	AccessToken  string
	RefreshToken string
	TokenExpiry  time.Time // the IdP access token's; zero: no refresh
	IssuedAt     time.Time
	RefreshedAt  time.Time
	ExpiresAt    time.Time // cookie_expire after sign-in: the upper bound
	Version      uint64    // optimistic concurrency, kept by the store
}

// ServiceAccount is a bearer identity an admin created; only the hash of
// its token is kept.
type ServiceAccount struct {
	ID          string
	UserID      string
	Description string
	SecretHash  string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
}

// DeviceCode is a pending RFC 8628 device authorization.
type DeviceCode struct {
	ID        string // hash of the device_code the CLI polls with
	UserCode  string // what the user types, normalized (no dash)
	SessionID string // set once the user confirmed
	Denied    bool
	LastPoll  time.Time
	ExpiresAt time.Time
	Version   uint64
}

// Store is what sign-in keeps. Put* create or replace; a Put with a
// non-zero Version fails unless the stored record still has it. Revoke
// records an id (a CLI token, a used handoff) as spent until expires and
// reports whether it was new: that is what makes handoffs single-use
// across replicas.
type Store interface {
	GetSession(ctx context.Context, id string) (*Session, error)
	PutSession(ctx context.Context, s *Session) error
	DeleteSession(ctx context.Context, id string) error

	Revoke(ctx context.Context, id, userID, reason string, expires time.Time) (fresh bool, err error)
	Revoked(ctx context.Context, id string) (bool, error)

	GetServiceAccount(ctx context.Context, id string) (*ServiceAccount, error)
	PutServiceAccount(ctx context.Context, a *ServiceAccount) error
	DeleteServiceAccount(ctx context.Context, id string) error
	ListServiceAccounts(ctx context.Context) ([]*ServiceAccount, error)

	GetDeviceCode(ctx context.Context, id string) (*DeviceCode, error)
	DeviceCodeByUserCode(ctx context.Context, userCode string) (*DeviceCode, error)
	PutDeviceCode(ctx context.Context, d *DeviceCode) error
	DeleteDeviceCode(ctx context.Context, id string) error
}
