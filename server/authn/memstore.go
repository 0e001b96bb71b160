package authn

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrConflict is a Put whose Version is no longer the stored one.
var ErrConflict = errors.New("record changed since it was read")

// MemoryStore is a Store in memory: one process, gone on restart.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]Session
	revoked  map[string]time.Time
	accounts map[string]ServiceAccount
	devices  map[string]DeviceCode
}

// NewMemoryStore is an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{sessions: map[string]Session{}, revoked: map[string]time.Time{},
		accounts: map[string]ServiceAccount{}, devices: map[string]DeviceCode{}}
}

func cloneSession(s Session) *Session {
	s.Groups = slices.Clone(s.Groups)
	return &s
}

func (m *MemoryStore) GetSession(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneSession(s), nil
}

func (m *MemoryStore) PutSession(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.sessions[s.ID]
	if s.Version != 0 && (!ok || old.Version != s.Version) {
		return ErrConflict
	}
	s.Version = old.Version + 1
	m.sessions[s.ID] = *cloneSession(*s)
	return nil
}

func (m *MemoryStore) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

func (m *MemoryStore) Revoke(_ context.Context, id, _, _ string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.revoked[id]; ok {
		return false, nil
	}
	m.revoked[id] = expires
	return true, nil
}

func (m *MemoryStore) Revoked(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.revoked[id]
	return ok, nil
}

func (m *MemoryStore) GetServiceAccount(_ context.Context, id string) (*ServiceAccount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return nil, ErrNotFound
	}
	return &a, nil
}

func (m *MemoryStore) PutServiceAccount(_ context.Context, a *ServiceAccount) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accounts[a.ID] = *a
	return nil
}

func (m *MemoryStore) DeleteServiceAccount(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[id]; !ok {
		return ErrNotFound
	}
	delete(m.accounts, id)
	return nil
}

func (m *MemoryStore) ListServiceAccounts(context.Context) ([]*ServiceAccount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*ServiceAccount
	for _, a := range m.accounts {
		out = append(out, &a)
	}
	slices.SortFunc(out, func(a, b *ServiceAccount) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (m *MemoryStore) GetDeviceCode(_ context.Context, id string) (*DeviceCode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return nil, ErrNotFound
	}
	return &d, nil
}

func (m *MemoryStore) DeviceCodeByUserCode(_ context.Context, code string) (*DeviceCode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.devices {
		if d.UserCode == code {
			return &d, nil
		}
	}
	return nil, ErrNotFound
}

func (m *MemoryStore) PutDeviceCode(_ context.Context, d *DeviceCode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.devices[d.ID]
	if d.Version != 0 && (!ok || old.Version != d.Version) {
		return ErrConflict
	}
	d.Version = old.Version + 1
	m.devices[d.ID] = *d
	return nil
}

func (m *MemoryStore) DeleteDeviceCode(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.devices, id)
	return nil
}
