package authn

import (
	"context"
	"errors"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

// ErrConflict is a Put whose Version is no longer the stored one.
var ErrConflict = store.ErrConflict

// FromStore keeps sign-in state in st: sessions, revocations (used
// handoffs and device codes, logged-out CLI tokens), service accounts and
// device codes, shared by every replica on the same database.
func FromStore(st store.Store) Store { return &stored{st: st} }

// FromCache is FromStore reading sessions, revocations and service
// accounts through c (no database query per request; other replicas'
// writes arrive through the change feed).
func FromCache(c *store.Cache) Store { return &stored{st: c.Store(), cache: c} }

// NewMemoryStore is a Store in memory (one process; gone on restart).
func NewMemoryStore() Store {
	st, err := store.OpenMemory(nil)
	if err != nil {
		panic(err) // only a failing crypto/rand gets here
	}
	return FromStore(st)
}

type stored struct {
	st    store.Store
	cache *store.Cache // nil: read the store
}

// forget tells the cache about a write of this process at once.
func (s *stored) forget(id string, revoked bool) {
	if s.cache != nil {
		s.cache.Forget(id, revoked)
	}
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

func (s *stored) GetSession(ctx context.Context, id string) (*Session, error) {
	var r *store.Session
	var err error
	if s.cache != nil {
		r, err = s.cache.Session(ctx, id)
	} else {
		r, err = store.Sessions.Get(ctx, s.st, id)
	}
	if err != nil {
		return nil, notFound(err)
	}
	return &Session{ID: r.ID, Version: r.Version, UserID: r.UserID, Email: r.Email, Name: r.Name, Groups: r.Groups,
		Claims: r.Claims, IDToken: r.IDToken, AccessToken: r.AccessToken, RefreshToken: r.RefreshToken,
		TokenExpiry: r.TokenExpiry, IssuedAt: r.IssuedAt, RefreshedAt: r.RefreshedAt, ExpiresAt: r.ExpiresAt}, nil
}

func (s *stored) PutSession(ctx context.Context, in *Session) error {
	r := &store.Session{Meta: store.Meta{ID: in.ID, Version: in.Version}, UserID: in.UserID, Email: in.Email, Name: in.Name,
		Groups: in.Groups, Claims: in.Claims, IDToken: in.IDToken, AccessToken: in.AccessToken, RefreshToken: in.RefreshToken,
		TokenExpiry: in.TokenExpiry, IssuedAt: in.IssuedAt, RefreshedAt: in.RefreshedAt, ExpiresAt: in.ExpiresAt}
	err := store.Sessions.Put(ctx, s.st, r)
	s.forget(in.ID, false)
	if err != nil {
		return err
	}
	in.Version = r.Version
	return nil
}

func (s *stored) DeleteSession(ctx context.Context, id string) error {
	err := store.Sessions.Delete(ctx, s.st, id)
	s.forget(id, false)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func (s *stored) Revoke(ctx context.Context, id, userID, reason string, expires time.Time) (bool, error) {
	err := store.Revocations.Create(ctx, s.st, &store.Revocation{Meta: store.Meta{ID: id}, UserID: userID, Reason: reason, ExpiresAt: expires})
	if err == nil {
		s.forget(id, true)
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		return false, nil
	}
	return err == nil, err
}

func (s *stored) Revoked(ctx context.Context, id string) (bool, error) {
	if s.cache != nil {
		return s.cache.Revoked(id), nil
	}
	_, err := store.Revocations.Get(ctx, s.st, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func fromStoreSA(r *store.ServiceAccount) *ServiceAccount {
	return &ServiceAccount{ID: r.ID, UserID: r.UserID, Description: r.Description, SecretHash: r.SecretHash,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

func (s *stored) GetServiceAccount(ctx context.Context, id string) (*ServiceAccount, error) {
	var r *store.ServiceAccount
	var err error
	if s.cache != nil {
		r, err = s.cache.ServiceAccount(ctx, id)
	} else {
		r, err = store.ServiceAccounts.Get(ctx, s.st, id)
	}
	if err != nil {
		return nil, notFound(err)
	}
	return fromStoreSA(r), nil
}

func (s *stored) PutServiceAccount(ctx context.Context, a *ServiceAccount) error {
	r := &store.ServiceAccount{Meta: store.Meta{ID: a.ID}, UserID: a.UserID, Description: a.Description,
		SecretHash: a.SecretHash, ExpiresAt: a.ExpiresAt}
	err := store.ServiceAccounts.Put(ctx, s.st, r)
	s.forget(a.ID, false)
	if err != nil {
		return err
	}
	a.CreatedAt = r.CreatedAt
	return nil
}

func (s *stored) DeleteServiceAccount(ctx context.Context, id string) error {
	err := store.ServiceAccounts.Delete(ctx, s.st, id)
	s.forget(id, false)
	return notFound(err)
}

func (s *stored) ListServiceAccounts(ctx context.Context) ([]*ServiceAccount, error) {
	rs, err := store.ServiceAccounts.List(ctx, s.st, store.Query{})
	if err != nil {
		return nil, err
	}
	out := make([]*ServiceAccount, len(rs))
	for i, r := range rs {
		out[i] = fromStoreSA(r)
	}
	return out, nil
}

func fromStoreDevice(r *store.DeviceCode) *DeviceCode {
	return &DeviceCode{ID: r.ID, Version: r.Version, UserCode: r.UserCode, SessionID: r.SessionID, Denied: r.Denied,
		LastPoll: r.LastPoll, ExpiresAt: r.ExpiresAt}
}

func (s *stored) GetDeviceCode(ctx context.Context, id string) (*DeviceCode, error) {
	r, err := store.DeviceCodes.Get(ctx, s.st, id)
	if err != nil {
		return nil, notFound(err)
	}
	return fromStoreDevice(r), nil
}

func (s *stored) DeviceCodeByUserCode(ctx context.Context, code string) (*DeviceCode, error) {
	rs, err := store.DeviceCodes.List(ctx, s.st, store.Query{EntityID: code, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, ErrNotFound
	}
	return fromStoreDevice(rs[0]), nil
}

func (s *stored) PutDeviceCode(ctx context.Context, d *DeviceCode) error {
	r := &store.DeviceCode{Meta: store.Meta{ID: d.ID, Version: d.Version}, UserCode: d.UserCode, SessionID: d.SessionID,
		Denied: d.Denied, LastPoll: d.LastPoll, ExpiresAt: d.ExpiresAt}
	if err := store.DeviceCodes.Put(ctx, s.st, r); err != nil {
		return err
	}
	d.Version = r.Version
	return nil
}

func (s *stored) DeleteDeviceCode(ctx context.Context, id string) error {
	if err := store.DeviceCodes.Delete(ctx, s.st, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
