package authn

import (
	"sync"
	"time"
)

// limiter allows n events per key per window (per replica: it bounds
// guessing and flooding, it is not an exact quota).
type limiter struct {
	mu     sync.Mutex
	events map[string][]time.Time
}

func newLimiter() *limiter { return &limiter{events: map[string][]time.Time{}} }

func (l *limiter) allow(key string, n int, window time.Duration, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) > 10000 {
		for k, ts := range l.events {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > window {
				delete(l.events, k)
			}
		}
	}
	kept := l.events[key][:0]
	for _, t := range l.events[key] {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= n {
		l.events[key] = kept
		return false
	}
	l.events[key] = append(kept, now)
	return true
}
