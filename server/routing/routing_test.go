package routing

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/server/config"
)

func mkRoute(t *testing.T, from, to string) config.Route {
	t.Helper()
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	r := config.Route{From: from, To: []config.Upstream{{URL: u}}, AllowPublicUnauthenticatedAccess: true}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLiveSourcesAndSwap: sources combine in order; a failed rebuild
// (a clash, a failing source) keeps the table and, with Replace, the
// previous source; an unchanged route keeps its pool across rebuilds.
func TestLiveSourcesAndSwap(t *testing.T) {
	ctx := context.Background()
	l := NewLive(nil)
	defer l.Close()
	a := mkRoute(t, "https://a.example.com", "http://127.0.0.1:1")
	b := mkRoute(t, "https://b.example.com", "http://127.0.0.1:2")
	l.SetSource("config", Static([]config.Route{a}))
	l.SetSource("api", Static([]config.Route{b}))
	if err := l.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	t1 := l.Load()
	if len(t1.All()) != 2 || t1.All()[0].Origin != "config" || t1.All()[1].Origin != "api" {
		t.Fatalf("table: got %d routes; want config's then api's", len(t1.All()))
	}
	poolA := t1.All()[0].Pool

	// Replace with a clash: refused, old table and old source stay.
	err := l.Replace(ctx, "config", Static([]config.Route{a, mkRoute(t, "https://b.example.com", "http://127.0.0.1:3")}))
	if err == nil || !strings.Contains(err.Error(), "the same from") {
		t.Fatalf("clashing replace: got %v; want a clash error", err)
	}
	if l.Load() != t1 {
		t.Error("a refused rebuild swapped the table")
	}
	if err := l.Rebuild(ctx); err != nil {
		t.Fatalf("rebuild after a refused Replace: %v (the old source should be back)", err)
	}
	if l.Load().All()[0].Pool != poolA {
		t.Error("an unchanged route got a new pool; want its pool (connections, health) kept")
	}

	// A failing source refuses the rebuild.
	l.SetSource("api", SourceFunc(func(context.Context) ([]config.Route, error) { return nil, errors.New("store down") }))
	cur := l.Load()
	if err := l.Rebuild(ctx); err == nil || !strings.Contains(err.Error(), "route source api: store down") {
		t.Errorf("failing source: got %v", err)
	}
	if l.Load() != cur {
		t.Error("a failing source swapped the table")
	}
}

// TestPickWeightsAndEjection: round robin honours weights; an ejected
// upstream is skipped; with every upstream ejected one is still tried.
func TestPickWeightsAndEjection(t *testing.T) {
	r := mkRoute(t, "https://a.example.com", "http://127.0.0.1:1")
	u2, _ := url.Parse("http://127.0.0.1:2")
	r.To[0].Weight = 3
	r.To = append(r.To, config.Upstream{URL: u2, Weight: 1})
	p, err := newPool(&r, NewLive(nil).log)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	count := map[string]int{}
	for i := 0; i < 8; i++ {
		count[p.Pick("", nil).URL.Host]++
	}
	if count["127.0.0.1:1"] != 6 || count["127.0.0.1:2"] != 2 {
		t.Errorf("weights 3:1 over 8 picks: got %v", count)
	}
	p.Fail(p.Upstreams()[0], errors.New("refused"))
	for i := 0; i < 4; i++ {
		if got := p.Pick("", nil); got != p.Upstreams()[1] {
			t.Fatalf("pick %d: got %s; want the upstream not ejected", i, got.URL.Host)
		}
	}
	p.Fail(p.Upstreams()[1], errors.New("refused"))
	if got := p.Pick("", nil); got == nil {
		t.Error("every upstream ejected: got no pick; want one tried anyway")
	}
	if got := p.Pick("", p.Upstreams()); got != nil {
		t.Errorf("all tried: got %s; want nil", got.URL.Host)
	}
}
