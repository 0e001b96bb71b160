package gui

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

func TestTrafficText(t *testing.T) {
	for _, tc := range []struct {
		s    State
		row  string
		full string
	}{
		{State{}, "off", "off"},
		{State{Running: true, Addr: "127.0.0.1:5432"}, "listening", "listening on 127.0.0.1:5432"},
		{State{Running: true, Addr: "127.0.0.1:5432", Active: 2, Traffic: tunnel.Stats{BytesSent: 1258291, BytesReceived: 40960}},
			"2 active · ↑1.2 MiB ↓40 KiB", "2 active · ↑1.2 MiB ↓40 KiB"},
		{State{Running: true, Addr: "127.0.0.1:5432", Traffic: tunnel.Stats{BytesSent: 5, BytesReceived: 0}},
			"listening · ↑5 B ↓0 B", "listening on 127.0.0.1:5432 · ↑5 B ↓0 B"},
	} {
		if got := tc.s.Short(); got != tc.row {
			t.Errorf("Short(%+v): got %q; want %q", tc.s, got, tc.row)
		}
		if got := tc.s.Text(); got != tc.full {
			t.Errorf("Text(%+v): got %q; want %q", tc.s, got, tc.full)
		}
	}
}

// TestLiveCounters drives real bytes through a dev-server tunnel and
// watches the row and the detail pane count them; once nothing flows the
// poll refreshes nothing, and it ends when the connection is off.
func TestLiveCounters(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	f := newFixture(t, []connections.Connection{{
		Name: "echo", Destination: "tcp+https://" + ds.Addr + "/echo.internal:7000", TLS: tlsCA(ds.CAFile),
	}}, func(c *Controller, o *Options) {
		c.OpenURL = ds.FollowSignIn
		o.StatsInterval = 20 * time.Millisecond
	})
	id := f.byName("echo").ID
	f.w.selectConn(id)
	r, addr := f.switchOn("echo")

	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	echo := func(n int) {
		t.Helper()
		msg := bytes.Repeat([]byte("x"), n)
		go conn.Write(msg) //nolint:errcheck // the read below fails if it did
		got := make([]byte, n)
		if _, err := io.ReadFull(conn, got); err != nil {
			t.Fatalf("reading the echo: %v (log %v)", err, f.ctrl.Log(id))
		}
	}
	for _, step := range []struct {
		n         int
		row, sent string
	}{
		{100 << 10, "1 active · ↑100 KiB ↓100 KiB", "sent 100 KiB · received 100 KiB"},
		{1 << 20, "1 active · ↑1.1 MiB ↓1.1 MiB", "sent 1.1 MiB · received 1.1 MiB"},
	} {
		echo(step.n)
		f.eventually("row counters "+step.row, func() bool { return r.status.Text == step.row })
		if got := f.w.detail.traffic.Text; !strings.Contains(got, step.sent) || !strings.HasPrefix(got, "1 open") {
			t.Errorf("detail counters: got %q; want 1 open and %q", got, step.sent)
		}
	}

	conn.Close()
	f.eventually("closed, counters kept", func() bool { return r.status.Text == "listening · ↑1.1 MiB ↓1.1 MiB" })
	if got := f.w.detail.status.Text; got != "listening on "+addr+" · ↑1.1 MiB ↓1.1 MiB" {
		t.Errorf("detail status: got %q", got)
	}

	// Idle: polls go on (the connection runs) but refresh nothing. The
	// counters' last move (made just after the last bytes were written)
	// may reach the poll only after the row showed the close; a tick that
	// starts after this point has seen the final counters once two more
	// have begun, so the baseline is taken then.
	t1 := f.w.stats.ticks.Load()
	f.eventually("two polls after the close", func() bool { return f.w.stats.ticks.Load() >= t1+2 })
	u0, t0 := f.w.stats.updates.Load(), f.w.stats.ticks.Load()
	f.eventually("ten idle polls", func() bool { return f.w.stats.ticks.Load() >= t0+10 })
	if u := f.w.stats.updates.Load(); u != u0 {
		t.Errorf("idle: %d refreshes asked in ten polls; want none", u-u0)
	}

	test.Tap(r.toggle)
	f.eventually("off, and the poll ended", func() bool { return r.status.Text == "off" && !f.w.stats.running.Load() })
	if got := f.w.detail.traffic.Text; got != "—" {
		t.Errorf("detail counters when off: got %q; want —", got)
	}
}

// TestEventBurstCoalesced: a burst of tunnel events asks the UI for one
// turn, not one per event, and that turn shows the final state.
func TestEventBurstCoalesced(t *testing.T) {
	fl := &fakeListens{}
	f := newFixture(t, sample(), fl.opt())
	r := f.row("pg-prod")
	test.Tap(r.toggle)
	var l *fakeListener
	f.eventually("listening", func() bool { l = fl.get("pg.internal:5432"); return l != nil && rowListening(r, r.listen.Text) })
	f.q.drain()
	for i := uint64(1); i <= 1000; i++ {
		l.emit(tunnel.Event{Kind: tunnel.EventConnected, ConnID: i})
		if i%2 == 0 {
			l.emit(tunnel.Event{Kind: tunnel.EventClosed, ConnID: i})
		}
	}
	f.q.mu.Lock()
	queued := len(f.q.fns)
	f.q.mu.Unlock()
	if queued > 2 {
		t.Errorf("1500 events queued %d UI turns; want one (two if the counters' poll ticked)", queued)
	}
	f.q.drain()
	if got := r.status.Text; got != "500 active" {
		t.Errorf("row after the burst: got %q; want 500 active", got)
	}
}
