package routing

import (
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/internal/tcpopts"
	"github.com/porthole-dev/porthole/server/config"
)

// EjectFor is how long passive failover skips an upstream after a
// failed connection.
const EjectFor = 10 * time.Second

// Pool is a route's upstreams: the load-balancing policy, active health
// checks, passive ejection and (for https routes) the HTTP transport
// with the route's upstream TLS settings.
type Pool struct {
	key       string
	policy    string
	ups       []*Upstream
	Transport *http.Transport // nil for tcp/udp routes
	rr        atomic.Uint64
	log       *slog.Logger

	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Upstream is one `to` entry with its live state.
type Upstream struct {
	URL    *url.URL
	Weight int

	active       atomic.Int64 // requests in flight (LEAST_REQUEST)
	unhealthy    atomic.Bool  // set by active health checks
	ejectedUntil atomic.Int64 // unix nanos; passive failover
}

// Healthy reports whether u takes traffic: not failed by a health check
// and not ejected after a failed connection.
func (u *Upstream) Healthy() bool {
	return !u.unhealthy.Load() && time.Now().UnixNano() >= u.ejectedUntil.Load()
}

// Begin counts a request in flight until the returned func is called.
func (u *Upstream) Begin() (end func()) {
	u.active.Add(1)
	return func() { u.active.Add(-1) }
}

// poolKey is what must be equal for a new table to keep a route's pool.
func poolKey(r *config.Route) string {
	s := fmt.Sprintf("%s|%s|%q|%v|%q|%q|%q|%q|%q|%q|%v|%+v|", r.Type, r.LBPolicy, r.TLSServerName, r.TLSSkipVerify,
		r.TLSCustomCA, r.TLSCustomCAFile, r.TLSClientCert, r.TLSClientKey, r.TLSClientCertFile, r.TLSClientKeyFile,
		r.TLSUpstreamAllowRenegotiation, r.HealthChecks) + fmt.Sprintf("%x|", r.UpstreamRoots)
	for _, u := range r.To {
		s += fmt.Sprintf("%s,%d|", u.URL, u.Weight)
	}
	return s
}

func newPool(r *config.Route, log *slog.Logger) (*Pool, error) {
	p := &Pool{key: poolKey(r), policy: r.LBPolicy, log: log, stop: make(chan struct{})}
	for _, u := range r.To {
		p.ups = append(p.ups, &Upstream{URL: u.URL, Weight: max(u.Weight, 1)})
	}
	if r.Type == "http" {
		var tc *tls.Config
		if r.UpstreamTLS != nil {
			tc = r.UpstreamTLS.Clone()
		}
		p.Transport = &http.Transport{
			Proxy:                 nil, // never an environment proxy between us and the upstream
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: tcpopts.ConnectNow}).DialContext,
			TLSClientConfig:       tc,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	for _, hc := range r.HealthChecks {
		for _, u := range p.ups {
			p.wg.Add(1)
			go p.healthLoop(u, hc)
		}
	}
	return p, nil
}

// Close stops the health checks and closes idle upstream connections.
func (p *Pool) Close() {
	p.stopOnce.Do(func() {
		close(p.stop)
		if p.Transport != nil {
			p.Transport.CloseIdleConnections()
		}
	})
	p.wg.Wait()
}

// Upstreams are the pool's upstreams in `to` order.
func (p *Pool) Upstreams() []*Upstream { return p.ups }

// Pick chooses an upstream by the route's lb_policy among the healthy
// ones not in tried; when none is healthy it picks among all not tried
// (Envoy's panic mode: better to try than to refuse). hashKey feeds
// RING_HASH and MAGLEV (the client address). nil when every upstream
// was tried.
func (p *Pool) Pick(hashKey string, tried []*Upstream) *Upstream {
	cands := make([]*Upstream, 0, len(p.ups))
	for _, u := range p.ups {
		if u.Healthy() && !contains(tried, u) {
			cands = append(cands, u)
		}
	}
	if len(cands) == 0 {
		for _, u := range p.ups {
			if !contains(tried, u) {
				cands = append(cands, u)
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	if len(cands) == 1 {
		return cands[0]
	}
	switch p.policy {
	case "RANDOM":
		return weighted(cands, rand.IntN(totalWeight(cands)))
	case "LEAST_REQUEST":
		// Envoy's power of two choices, weighted by the active count.
		a, b := weighted(cands, rand.IntN(totalWeight(cands))), weighted(cands, rand.IntN(totalWeight(cands)))
		if float64(b.active.Load())/float64(b.Weight) < float64(a.active.Load())/float64(a.Weight) {
			return b
		}
		return a
	case "RING_HASH", "MAGLEV":
		// Rendezvous hashing: the same key keeps its upstream while that
		// upstream is healthy, and only its keys move when it is not.
		var best *Upstream
		var bestScore float64
		for _, u := range cands {
			h := fnv.New64a()
			h.Write([]byte(hashKey))
			h.Write([]byte{0})
			h.Write([]byte(u.URL.String()))
			x := float64(h.Sum64()>>11) / float64(1<<53)
			score := float64(u.Weight) / -logOf(x)
			if best == nil || score > bestScore {
				best, bestScore = u, score
			}
		}
		return best
	}
	n := int(p.rr.Add(1)-1) % totalWeight(cands)
	return weighted(cands, n)
}

// Fail ejects u for EjectFor after a failed connection (passive
// failover).
func (p *Pool) Fail(u *Upstream, err error) {
	if u.ejectedUntil.Swap(time.Now().Add(EjectFor).UnixNano()) < time.Now().UnixNano() {
		p.log.Warn("upstream ejected after a failed connection", "upstream", u.URL.Host, "for", EjectFor, "err", err)
	}
}

func contains(l []*Upstream, u *Upstream) bool {
	for _, x := range l {
		if x == u {
			return true
		}
	}
	return false
}

func totalWeight(us []*Upstream) int {
	t := 0
	for _, u := range us {
		t += u.Weight
	}
	return max(t, 1)
}

func weighted(us []*Upstream, n int) *Upstream {
	for _, u := range us {
		if n -= u.Weight; n < 0 {
			return u
		}
	}
	return us[len(us)-1]
}

// DialTCP dials a tcp route's upstreams in pick order until one answers,
// ejecting those that fail. It returns the last error when all fail.
func (p *Pool) DialTCP(ctx context.Context, hashKey string, timeout time.Duration) (net.Conn, *Upstream, error) {
	var tried []*Upstream
	var lastErr error
	for {
		u := p.Pick(hashKey, tried)
		if u == nil {
			if lastErr == nil {
				lastErr = fmt.Errorf("no upstream")
			}
			return nil, nil, lastErr
		}
		tried = append(tried, u)
		c, err := (&net.Dialer{Timeout: timeout, KeepAlive: tcpopts.KeepAlive(u.URL.Host), Control: tcpopts.ConnectNow}).DialContext(ctx, "tcp", u.URL.Host)
		if err == nil {
			return c, u, nil
		}
		if ctx.Err() != nil {
			return nil, nil, err
		}
		p.Fail(u, err)
		lastErr = err
	}
}
