package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// maxCached bounds each cache map; past it the map starts
// over (entries are cheap to fetch again).
const maxCached = 100_000

// Cache answers the per-request questions (is this session revoked? what
// is session X?) from memory, following the change feed, so the proxy
// neither queries the database per request nor stops when it is away.
// Revocations are all held; sessions are fetched once and kept until the
// feed says they changed.
type Cache struct {
	st  Store
	log *slog.Logger

	mu       sync.RWMutex
	version  uint64
	gen      uint64              // bumped by every applied change; guards stale fills
	sessions map[string]*Session // nil value: known not to exist
	accounts map[string]*ServiceAccount
	revoked  map[string]time.Time
	onChange []func(kinds map[Kind]bool)

	stop context.CancelFunc
	done chan struct{}
}

// NewCache loads the revocations and follows st's change feed until
// Close.
func NewCache(ctx context.Context, st Store, log *slog.Logger) (*Cache, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cache{st: st, log: log, done: make(chan struct{})}
	if err := c.reload(ctx); err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	c.stop = stop
	watch := st.Watch(bg) // before the loop starts: no change slips between
	go c.follow(bg, watch)
	return c, nil
}

// Close stops following the feed.
func (c *Cache) Close() {
	c.stop()
	<-c.done
}

// Store is the underlying store.
func (c *Cache) Store() Store { return c.st }

// OnChange registers fn to run (on the feed goroutine) after changes to
// any kind are applied, with the kinds that changed (nil: everything may
// have, after a reload).
func (c *Cache) OnChange(fn func(kinds map[Kind]bool)) {
	c.mu.Lock()
	c.onChange = append(c.onChange, fn)
	c.mu.Unlock()
}

// Revoked reports whether id was revoked. It never queries the database.
func (c *Cache) Revoked(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.revoked[id]
	return ok
}

// Session returns the session with id, from memory when it was read
// before; ErrNotFound when there is none.
func (c *Cache) Session(ctx context.Context, id string) (*Session, error) {
	return cached(ctx, c, &c.sessions, Sessions, id)
}

// ServiceAccount is Session for service accounts (checked on every
// request that carries a service account token).
func (c *Cache) ServiceAccount(ctx context.Context, id string) (*ServiceAccount, error) {
	return cached(ctx, c, &c.accounts, ServiceAccounts, id)
}

func cached[T any, P interface {
	*T
	record
}](ctx context.Context, c *Cache, m *map[string]*T, tbl Table[T, P], id string) (*T, error) {
	c.mu.RLock()
	v, ok := (*m)[id]
	c.mu.RUnlock()
	if ok {
		if v == nil {
			return nil, ErrNotFound
		}
		return v, nil
	}
	// A change applied while reading may be about this record and the
	// read may predate it: then read again rather than keep it.
	for range 3 {
		c.mu.RLock()
		gen := c.gen
		c.mu.RUnlock()
		var err error
		v, err = tbl.Get(ctx, c.st, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		c.mu.Lock()
		fresh := c.gen == gen
		if fresh {
			if len(*m) >= maxCached {
				*m = map[string]*T{}
			}
			(*m)[id] = v
		}
		c.mu.Unlock()
		if fresh {
			break
		}
	}
	if v == nil {
		return nil, ErrNotFound
	}
	return v, nil
}

// stale reports whether a cached entry predates change ch.
func stale(m *Meta, ch Change) bool {
	return m == nil || ch.Deleted || m.Version < ch.Version
}

// Forget drops id from the session and service account caches after this
// process wrote it and, for a revocation, marks it at once (the feed
// confirms both later).
func (c *Cache) Forget(id string, revoked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.sessions, id)
	delete(c.accounts, id)
	if revoked {
		c.revoked[id] = time.Now()
	}
}

// Sync applies the changes made since the last sync now, rather than
// waiting for the feed.
func (c *Cache) Sync(ctx context.Context) error {
	c.mu.RLock()
	since := c.version
	c.mu.RUnlock()
	changes, v, err := c.st.ChangesSince(ctx, since)
	if errors.Is(err, ErrChangesTrimmed) {
		return c.reload(ctx)
	}
	if err != nil {
		return err
	}
	kinds := map[Kind]bool{}
	var newRevs []string
	for _, ch := range changes {
		kinds[ch.Kind] = true
		if ch.Kind == KindRevocation && !ch.Deleted {
			newRevs = append(newRevs, ch.ID)
		}
	}
	c.mu.Lock()
	if c.version != since { // another Sync got here first
		c.mu.Unlock()
		return nil
	}
	c.gen++
	c.version = v
	for _, ch := range changes {
		switch ch.Kind {
		case KindSession:
			if v, ok := c.sessions[ch.ID]; ok && (v == nil || stale(&v.Meta, ch)) {
				delete(c.sessions, ch.ID)
			}
		case KindServiceAccount:
			if v, ok := c.accounts[ch.ID]; ok && (v == nil || stale(&v.Meta, ch)) {
				delete(c.accounts, ch.ID)
			}
		case KindRevocation:
			if ch.Deleted {
				delete(c.revoked, ch.ID)
			}
		}
	}
	for _, id := range newRevs {
		c.revoked[id] = time.Now()
	}
	fns := c.onChange
	c.mu.Unlock()
	if len(kinds) > 0 {
		for _, fn := range fns {
			fn(kinds)
		}
	}
	return nil
}

// reload replaces everything cached from a fresh read.
func (c *Cache) reload(ctx context.Context) error {
	v, err := c.st.Version(ctx)
	if err != nil {
		return err
	}
	revs, err := Revocations.List(ctx, c.st, Query{})
	if err != nil {
		return err
	}
	set := make(map[string]time.Time, len(revs))
	for _, r := range revs {
		set[r.ID] = r.ExpiresAt
	}
	c.mu.Lock()
	c.gen++
	c.version = v
	c.revoked = set
	c.sessions = map[string]*Session{}
	c.accounts = map[string]*ServiceAccount{}
	fns := c.onChange
	c.mu.Unlock()
	for _, fn := range fns {
		fn(nil)
	}
	return nil
}

// follow applies the feed on every Watch signal, and retries every second
// while the store is unreachable.
func (c *Cache) follow(ctx context.Context, watch <-chan struct{}) {
	defer close(c.done)
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-watch:
			if !ok {
				return
			}
		case <-retry.C:
			if !failing {
				continue
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.Sync(sctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			if !failing {
				c.log.Warn("store: cannot follow changes; serving from cache until it is back", "store", c.st.Describe(), "err", err)
			}
			failing = true
			continue
		}
		if failing {
			c.log.Info("store: reachable again", "store", c.st.Describe())
		}
		failing = false
	}
}

// RunCleanup deletes expired sessions, revocations and device codes and
// activity entries older than keepActivity, every interval, until ctx
// ends. Every replica may run it: the deletes are idempotent.
func RunCleanup(ctx context.Context, st Store, every, keepActivity time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := time.Now()
		n, err := st.Cleanup(ctx, now, now.Add(-keepActivity))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("store: cleanup failed; will retry", "err", err)
		case n > 0:
			log.Debug("store: cleanup", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
