package authflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Authenticator combines a Flow and a TokenStore, and makes concurrent
// callers share one sign-in. It implements tunnel.Authenticator and
// portalclient's authenticator.
type Authenticator struct {
	Flow  *Flow
	Store TokenStore
	// ServiceAccount, when set, is always the token; no browser is used.
	ServiceAccount string

	mu       sync.Mutex
	inflight map[string]*signInCall
	// mem keeps each token read from or saved to the Store, so a tunnel
	// opening many connections reads the keyring or file once. It is
	// dropped when the proxy rejects the token (SignIn) and on Logout.
	mem map[string]memToken
}

type memToken struct {
	tok    string
	exp    time.Time
	hasExp bool
}

func (a *Authenticator) remember(key, tok string) {
	if a.mem == nil {
		a.mem = map[string]memToken{}
	}
	exp, ok := expiry(tok)
	a.mem[key] = memToken{tok: tok, exp: exp, hasExp: ok}
}

// signInCall is a sign-in under way; callers for the same host join it.
type signInCall struct {
	done chan struct{}
	tok  string
	err  error

	mu       sync.Mutex
	url      string
	notifies []func(string)
}

// join registers notify; if the sign-in URL is already known it is called
// at once.
func (c *signInCall) join(notify func(string)) {
	if notify == nil {
		return
	}
	c.mu.Lock()
	u := c.url
	if u == "" {
		c.notifies = append(c.notifies, notify)
	}
	c.mu.Unlock()
	if u != "" {
		notify(u)
	}
}

func (c *signInCall) announce(u string) {
	c.mu.Lock()
	c.url = u
	ns := c.notifies
	c.notifies = nil
	c.mu.Unlock()
	for _, n := range ns {
		n(u)
	}
}

// CachedToken returns a stored, unexpired token or "".
func (a *Authenticator) CachedToken(ctx context.Context, proxy *url.URL) (string, error) {
	if a.ServiceAccount != "" {
		return a.ServiceAccount, nil
	}
	if a.Store == nil {
		return "", nil
	}
	key := HostKey(proxy)
	a.mu.Lock()
	defer a.mu.Unlock()
	if m, ok := a.mem[key]; ok {
		if !m.hasExp || time.Now().Before(m.exp) {
			return m.tok, nil
		}
		delete(a.mem, key)
	}
	tok, err := a.loadValid(key)
	if err == nil && tok != "" {
		a.remember(key, tok)
	}
	return tok, err
}

// loadValid loads the token for key, dropping it when its exp has passed.
func (a *Authenticator) loadValid(key string) (string, error) {
	tok, err := a.Store.Load(key)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("loading the token for %s: %w", key, err)
	}
	if Expired(tok) {
		if err := a.Store.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("dropping the expired token for %s: %w", key, err)
		}
		return "", nil
	}
	return tok, nil
}

// SignIn: see tunnel.Authenticator.
func (a *Authenticator) SignIn(ctx context.Context, proxy *url.URL, stale string, notify func(string)) (string, error) {
	if a.ServiceAccount != "" {
		return "", fmt.Errorf("%w by %s: check --service-account (it may have expired or lack access)", ErrServiceAccountRejected, proxy.Host)
	}
	if a.Flow == nil {
		return "", errors.New("sign-in needed but no sign-in flow is configured")
	}
	key := HostKey(proxy)
	// A leader whose own context ended takes its waiters down with it; a
	// waiter whose context is still alive then leads a new sign-in.
	for range 3 {
		a.mu.Lock()
		if c := a.inflight[key]; c != nil {
			a.mu.Unlock()
			c.join(notify)
			select {
			case <-c.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if c.err != nil && isCtxErr(c.err) && ctx.Err() == nil {
				continue
			}
			return c.tok, c.err
		}
		// The rejected token may be the one kept in memory: read the Store
		// again (another process may have signed in since).
		delete(a.mem, key)
		if a.Store != nil {
			cached, err := a.loadValid(key)
			if err != nil {
				a.mu.Unlock()
				return "", err
			}
			if cached != "" && cached != stale {
				a.remember(key, cached)
				a.mu.Unlock()
				return cached, nil
			}
			if cached != "" {
				if err := a.Store.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
					a.mu.Unlock()
					return "", fmt.Errorf("dropping the rejected token for %s: %w", key, err)
				}
			}
		}
		c := &signInCall{done: make(chan struct{})}
		c.join(notify)
		if a.inflight == nil {
			a.inflight = map[string]*signInCall{}
		}
		a.inflight[key] = c
		a.mu.Unlock()

		c.tok, c.err = a.Flow.Login(ctx, proxy, c.announce)
		if c.err == nil && a.Store != nil {
			if err := a.Store.Save(key, c.tok); err != nil && a.Flow.Stderr != nil {
				// The token still works for this run; only caching failed.
				fmt.Fprintf(a.Flow.Stderr, "warning: could not cache the token for %s: %v\n", key, err)
			}
		}
		a.mu.Lock()
		delete(a.inflight, key)
		if c.err == nil && a.Store != nil {
			a.remember(key, c.tok)
		}
		a.mu.Unlock()
		close(c.done)
		return c.tok, c.err
	}
	return "", fmt.Errorf("signing in to %s: %w", proxy.Host, context.Canceled)
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Token returns the cached token, or signs in.
func (a *Authenticator) Token(ctx context.Context, proxy *url.URL, notify func(string)) (string, error) {
	tok, err := a.CachedToken(ctx, proxy)
	if err != nil || tok != "" {
		return tok, err
	}
	return a.SignIn(ctx, proxy, "", notify)
}

// Logout drops the token for proxy (ErrNotFound when there was none).
func (a *Authenticator) Logout(proxy *url.URL) error {
	if a.Store == nil {
		return ErrNotFound
	}
	key := HostKey(proxy)
	a.mu.Lock()
	delete(a.mem, key)
	a.mu.Unlock()
	return a.Store.Delete(key)
}

// HostKey is the cache key for a proxy URL: its host, with the port when
// it is not 443. One sign-in serves every route of a cluster.
func HostKey(proxy *url.URL) string {
	h := strings.ToLower(proxy.Hostname())
	if p := proxy.Port(); p != "" && p != "443" {
		return net.JoinHostPort(h, p)
	}
	return h
}
