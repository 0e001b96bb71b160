package authflow_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
)

// countingStore is an in-memory TokenStore that counts loads.
type countingStore struct {
	mu    sync.Mutex
	toks  map[string]string
	loads int
}

func (s *countingStore) Load(host string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if t, ok := s.toks[host]; ok {
		return t, nil
	}
	return "", authflow.ErrNotFound
}

func (s *countingStore) Save(host, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toks[host] = tok
	return nil
}

func (s *countingStore) Delete(host string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.toks, host)
	return nil
}

func (s *countingStore) Hosts() ([]string, error) { return nil, nil }

func (s *countingStore) loadCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads
}

// TestTokenReadOnce: the Store is read once for many connections, again
// after the proxy rejects the token, and again after Logout.
func TestTokenReadOnce(t *testing.T) {
	ctx := context.Background()
	u, _ := url.Parse("https://proxy.example.com")
	first, second := jwtWithExp(time.Now().Add(time.Hour), 1), jwtWithExp(time.Now().Add(time.Hour), 2)
	st := &countingStore{toks: map[string]string{"proxy.example.com": first}}
	a := &authflow.Authenticator{Store: st, Flow: &authflow.Flow{}}
	for range 100 {
		if tok, err := a.CachedToken(ctx, u); err != nil || tok != first {
			t.Fatalf("CachedToken: %q, %v; want the stored token", tok, err)
		}
	}
	if n := st.loadCount(); n != 1 {
		t.Fatalf("Store loads for 100 connections: %d; want 1", n)
	}

	// Another process signed in: the rejected token makes SignIn re-read.
	st.Save("proxy.example.com", second)
	tok, err := a.SignIn(ctx, u, first, nil)
	if err != nil || tok != second {
		t.Fatalf("SignIn after a rejection: %q, %v; want the newer stored token", tok, err)
	}
	before := st.loadCount()
	if tok, _ := a.CachedToken(ctx, u); tok != second || st.loadCount() != before {
		t.Fatalf("CachedToken after SignIn: %q with %d more loads; want the new token from memory", tok, st.loadCount()-before)
	}

	if err := a.Logout(u); err != nil {
		t.Fatal(err)
	}
	if tok, _ := a.CachedToken(ctx, u); tok != "" {
		t.Fatalf("CachedToken after Logout: %q; want none", tok)
	}
}
