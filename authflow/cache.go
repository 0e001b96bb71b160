package authflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
)

// keyringTimeout bounds each keyring call: without a D-Bus session or with
// a locked keyring a call can hang.
const keyringTimeout = 3 * time.Second

// Cache is the default TokenStore: keyring first, file fallback.
type Cache struct {
	service   string
	dir       string
	dirErr    error
	stderr    io.Writer
	noKeyring bool

	mu          sync.Mutex
	keyringDown error // why the keyring is not used (sticky), nil while it works
	told        bool  // the store in use was announced (or needs no word)
}

// NewCache returns the keyring-backed cache with its file fallback.
func NewCache(opts CacheOptions) *Cache {
	c := &Cache{service: opts.Service, dir: opts.Dir, stderr: opts.Stderr, noKeyring: opts.NoKeyring}
	if c.service == "" {
		c.service = "pomerium-cli"
	}
	if c.dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			c.dirErr = fmt.Errorf("finding the user cache dir for the token file: %w", err)
		}
		c.dir = filepath.Join(base, "pomerium-cli")
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch {
	case c.noKeyring:
		c.keyringDown = errKeyringDisabled
	case !sessionBusNamed(getenv):
		// go-keyring would autolaunch a bus (and a keyring daemon) that
		// outlives the command: never ask without a session bus.
		c.keyringDown = errNoSessionBus
	}
	return c
}

// TokenPath is the fallback file for host.
func (c *Cache) TokenPath(host string) string {
	return filepath.Join(c.dir, "tokens", sanitize(host)+".jwt")
}

// UsingKeyring reports whether tokens currently go to the keyring.
func (c *Cache) UsingKeyring() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keyringDown == nil
}

// withKeyring runs op against the keyring with a timeout. It returns
// false when the keyring is (or just turned out to be) unavailable, so the
// caller uses the file.
func (c *Cache) withKeyring(op func() error) (bool, error) {
	c.mu.Lock()
	down := c.keyringDown
	c.mu.Unlock()
	if down != nil {
		c.announce(storeFile, down)
		return false, nil
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	var err error
	tm := time.NewTimer(keyringTimeout)
	defer tm.Stop()
	select {
	case err = <-done:
	case <-tm.C:
		err = fmt.Errorf("keyring did not answer within %s", keyringTimeout)
	}
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		c.announce(storeKeyring, nil)
		return true, err
	}
	c.mu.Lock()
	c.keyringDown = err
	c.mu.Unlock()
	c.announce(storeFile, err)
	return false, nil
}

// Load returns the token for host, ErrNotFound when none is stored.
func (c *Cache) Load(host string) (string, error) {
	var tok string
	ok, err := c.withKeyring(func() error {
		var err error
		tok, err = keyring.Get(c.service, host)
		return err
	})
	if ok && err == nil {
		return tok, nil
	}
	// Not in the keyring (or no keyring): a token saved while the keyring
	// was unavailable may be in the file.
	if c.dirErr != nil {
		return "", ErrNotFound
	}
	if err := c.repairPerms(c.TokenPath(host)); err != nil {
		return "", err
	}
	b, err := bounded.ReadFile(c.TokenPath(host), maxTokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("reading token file: %w", err)
	}
	if tok := strings.TrimSpace(string(b)); tok != "" {
		return tok, nil
	}
	return "", ErrNotFound
}

// Save stores tok for host in the keyring, or in the 0600 file.
func (c *Cache) Save(host, tok string) error {
	ok, err := c.withKeyring(func() error { return keyring.Set(c.service, host, tok) })
	if ok && err == nil {
		// A stale file copy from a time without keyring must not linger.
		_ = os.Remove(c.TokenPath(host))
	} else {
		if c.dirErr != nil {
			return c.dirErr
		}
		if err := c.repairPerms(c.TokenPath(host)); err != nil {
			return err
		}
		if err := atomicfile.Write(c.TokenPath(host), []byte(tok+"\n"), 0o600); err != nil {
			return err
		}
	}
	return c.updateIndex(func(hosts []string) []string {
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
		return hosts
	})
}

// Delete removes the token for host from the keyring and the file;
// ErrNotFound when neither held one.
func (c *Cache) Delete(host string) error {
	found := false
	ok, err := c.withKeyring(func() error { return keyring.Delete(c.service, host) })
	if ok && err == nil {
		found = true
	}
	if c.dirErr == nil {
		err := os.Remove(c.TokenPath(host))
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("removing token file: %w", err)
		}
	}
	inIndex := false
	if err := c.updateIndex(func(hosts []string) []string {
		inIndex = slices.Contains(hosts, host)
		return slices.DeleteFunc(hosts, func(h string) bool { return h == host })
	}); err != nil {
		return err
	}
	if !found {
		if inIndex {
			return nil
		}
		return ErrNotFound
	}
	return nil
}

// Hosts lists every host with a stored token: the index plus any token
// file (the keyring cannot be listed portably).
func (c *Cache) Hosts() ([]string, error) {
	if c.dirErr != nil {
		return nil, c.dirErr
	}
	c.mu.Lock()
	hosts, err := c.readIndex()
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(c.dir, "tokens"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing token files: %w", err)
	}
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".jwt"); ok {
			if h, ok := unsanitize(n); ok && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	slices.Sort(hosts)
	return hosts, nil
}

type index struct {
	Hosts []string `json:"hosts"`
}

func (c *Cache) indexPath() string { return filepath.Join(c.dir, "hosts.json") }

// readIndex reads hosts.json; c.mu must be held.
func (c *Cache) readIndex() ([]string, error) {
	b, err := bounded.ReadFile(c.indexPath(), maxTokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.indexPath(), err)
	}
	var ix index
	if err := json.Unmarshal(b, &ix); err != nil {
		// The index only lists hosts; a broken one is rebuilt, not fatal.
		return nil, nil
	}
	return ix.Hosts, nil
}

func (c *Cache) updateIndex(f func([]string) []string) error {
	if c.dirErr != nil {
		return c.dirErr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hosts, err := c.readIndex()
	if err != nil {
		return err
	}
	before := slices.Clone(hosts)
	hosts = f(hosts)
	slices.Sort(hosts)
	if slices.Equal(before, hosts) && len(before) > 0 {
		return nil
	}
	b, err := json.MarshalIndent(index{Hosts: append([]string{}, hosts...)}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(c.indexPath(), append(b, '\n'), 0o600)
}

// sanitize makes host a file name: [A-Za-z0-9.-] stay, any other byte
// maxTokenFile caps a token file or the hosts index: tokens are a few KiB.
const maxTokenFile = 256 << 10

// becomes _XX (hex), so the mapping is reversible and names never collide.
func sanitize(host string) string {
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		ch := host[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "_%02x", ch)
		}
	}
	return b.String()
}

func unsanitize(name string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '_' {
			b.WriteByte(name[i])
			continue
		}
		var v byte
		if i+2 >= len(name) {
			return "", false
		}
		if _, err := fmt.Sscanf(name[i+1:i+3], "%02x", &v); err != nil {
			return "", false
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), true
}
