package gui

import (
	"maps"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/internal/bytesize"
	"github.com/porthole-dev/porthole/tunnel"
)

// statser is a listener with live counters (tunnel.Listener and
// tunnel.UDPListener have them).
type statser interface{ Stats() tunnel.Stats }

func statsOf(ln Listener) tunnel.Stats {
	if s, ok := ln.(statser); ok {
		return s.Stats()
	}
	return tunnel.Stats{}
}

// trafficText is the bytes each way in the CLI's format: "↑1.2 MiB ↓40 KiB"
// (↑ sent from this machine, ↓ received); "" before any byte flowed.
func trafficText(st tunnel.Stats) string {
	if st.BytesSent == 0 && st.BytesReceived == 0 {
		return ""
	}
	return "↑" + bytesize.Format(st.BytesSent) + " ↓" + bytesize.Format(st.BytesReceived)
}

func (s State) trafficSuffix() string {
	if t := trafficText(s.Traffic); t != "" {
		return " · " + t
	}
	return ""
}

// DefaultStatsInterval is how often the counters are looked at while a
// connection runs: at most two refreshes a second, whatever the traffic.
const DefaultStatsInterval = 500 * time.Millisecond

// statsWatch refreshes the rows whose counters changed, every interval,
// while any connection runs. Bytes make no events (only connections
// opening and closing do), so counters are polled rather than pushed; the
// poll stops when nothing runs, and a tick with no change touches no
// widget.
type statsWatch struct {
	w        *MainWindow
	interval time.Duration
	running  atomic.Bool
	ticks    atomic.Int64 // polls done, for tests
	updates  atomic.Int64 // refreshes asked of the UI, for tests
}

// ensure starts the poll when a connection runs and none is going. Any
// goroutine may call it.
func (s *statsWatch) ensure() {
	if s.w.ctrl.RunningCount() > 0 && s.running.CompareAndSwap(false, true) {
		go s.loop()
	}
}

func (s *statsWatch) loop() {
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	last := map[string]tunnel.Stats{}
	for range tick.C {
		s.ticks.Add(1)
		if s.w.ctrl.RunningCount() == 0 {
			s.running.Store(false)
			// A start between the count and the Store saw the poll
			// still going: take it up again rather than miss it.
			if s.w.ctrl.RunningCount() == 0 || !s.running.CompareAndSwap(false, true) {
				return
			}
		}
		now := s.w.ctrl.trafficAll()
		for id, st := range now {
			// Open connections come from the tunnel's events (which
			// refresh on their own); only what they do not say counts.
			st.Active = 0
			now[id] = st
			if last[id] != st {
				s.updates.Add(1)
				s.w.do(func() { s.w.refreshTraffic(id) })
			}
		}
		last = maps.Clone(now)
	}
}

// trafficAll returns the counters of every running connection.
func (c *Controller) trafficAll() map[string]tunnel.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]tunnel.Stats, len(c.runs))
	for id, r := range c.runs {
		if r.ln != nil {
			out[id] = statsOf(r.ln)
		}
	}
	return out
}

// refreshTraffic shows connection id's new counters: its row's status
// and, when selected, the detail pane. Unlike refresh it leaves the tray
// and the bulk buttons alone.
func (w *MainWindow) refreshTraffic(id string) {
	s := w.ctrl.State(id)
	if r := w.rows[id]; r != nil {
		r.update(s)
	}
	if id == w.selected {
		w.detail.showState(s)
	}
}
