// Package routing is the server's live route table: the routes of every
// source (the YAML config, the --dev samples, the management API's store)
// compiled into one immutable Table that the server swaps atomically.
// Requests load the current Table once and keep it, so a rebuild never
// disturbs a request or tunnel already under way.
//
//	tbl := routing.NewLive(log)
//	tbl.SetSource("config", routing.Static(cfg.Routes))
//	tbl.SetSource("api", myStoreSource) // anything with Routes(ctx)
//	if err := tbl.Rebuild(ctx); err != nil { /* the old table keeps serving */ }
//	rt := tbl.Load().MatchHTTP(r)
package routing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/porthole-dev/porthole/server/config"
)

// Source yields routes for the table. The routes must be validated
// (config.Parse does it; routes built in code call Route.Validate) and
// carry their policies resolved into Route.Policy and the shortcuts.
// Routes is called on every Rebuild; it should be quick (read a cache
// or one store query).
type Source interface {
	Routes(ctx context.Context) ([]config.Route, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) ([]config.Route, error)

// Routes calls f.
func (f SourceFunc) Routes(ctx context.Context) ([]config.Route, error) { return f(ctx) }

// Static is a Source of a fixed list.
func Static(routes []config.Route) Source {
	routes = slices.Clone(routes)
	return SourceFunc(func(context.Context) ([]config.Route, error) { return routes, nil })
}

// Live is the current Table plus the sources it is built from.
type Live struct {
	log *slog.Logger

	mu      sync.Mutex // serialises SetSource and Rebuild
	order   []string
	sources map[string]Source
	onSwap  []func(old, new *Table)

	cur atomic.Pointer[Table]
}

// NewLive returns an empty live table (no routes) that logs to log.
func NewLive(log *slog.Logger) *Live {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Live{log: log, sources: map[string]Source{}}
	l.cur.Store(&Table{})
	return l
}

// SetSource adds or replaces the source called name. Sources are
// combined in the order first added; call Rebuild to apply.
func (l *Live) SetSource(name string, src Source) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.sources[name]; !ok {
		l.order = append(l.order, name)
	}
	l.sources[name] = src
}

// OnSwap registers fn to run after each successful Rebuild with the old
// and new tables (e.g. to stop the old table's health checks).
func (l *Live) OnSwap(fn func(old, new *Table)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onSwap = append(l.onSwap, fn)
}

// Load returns the current table; never nil.
func (l *Live) Load() *Table { return l.cur.Load() }

// Rebuild reads every source, compiles the table and swaps it in. On any
// error (a source failing, two routes clashing) the running table stays
// and the error says which source and route.
func (l *Live) Rebuild(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []config.Route
	var origin []string
	for _, name := range l.order {
		rs, err := l.sources[name].Routes(ctx)
		if err != nil {
			return fmt.Errorf("route source %s: %w", name, err)
		}
		for range rs {
			origin = append(origin, name)
		}
		all = append(all, rs...)
	}
	old := l.cur.Load()
	t, err := compile(all, origin, old, l.log)
	if err != nil {
		return err
	}
	l.cur.Store(t)
	old.retire(t)
	for _, fn := range l.onSwap {
		fn(old, t)
	}
	return nil
}

// Close stops the current table's background work (health checks).
func (l *Live) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur.Load().retire(nil)
}

// Replace sets the source called name and rebuilds; when the rebuild
// fails the previous source is put back, so the table and its sources
// stay as they were.
func (l *Live) Replace(ctx context.Context, name string, src Source) error {
	l.mu.Lock()
	prev, had := l.sources[name]
	if !had {
		l.order = append(l.order, name)
	}
	l.sources[name] = src
	l.mu.Unlock()
	err := l.Rebuild(ctx)
	if err != nil {
		l.mu.Lock()
		if had {
			l.sources[name] = prev
		} else {
			delete(l.sources, name)
			l.order = slices.DeleteFunc(l.order, func(n string) bool { return n == name })
		}
		l.mu.Unlock()
	}
	return err
}
