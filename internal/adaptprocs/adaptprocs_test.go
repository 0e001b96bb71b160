package adaptprocs

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestDeciderNext(t *testing.T) {
	p := Policy{Up: 0.7, Down: 0.5, DownAfter: 3}
	tests := []struct {
		name   string
		shares []float64
		want   []int
	}{
		{"stays on one while light", []float64{0, 0.3, 0.69}, []int{1, 1, 1}},
		{"a busy interval goes up at once", []float64{0.2, 0.7}, []int{1, 4}},
		{"down only after enough low intervals in a row", []float64{1, 0.4, 0.4, 0.4}, []int{4, 4, 4, 1}},
		{"a busy interval restarts the count", []float64{1, 0.4, 0.4, 0.6, 0.4, 0.4, 0.4}, []int{4, 4, 4, 4, 4, 4, 1}},
		{"between the thresholds each side stays", []float64{0.6, 0.6, 0.9, 0.6, 0.6, 0.6, 0.6}, []int{1, 1, 4, 4, 4, 4, 4}},
		{"back up after coming down", []float64{1, 0, 0, 0, 0.8}, []int{4, 4, 4, 1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &decider{p: p, most: 4, cur: 1}
			for i, s := range tt.shares {
				if got := d.next(s); got != tt.want[i] {
					t.Fatalf("share %v (step %d): %d Ps, want %d", s, i, got, tt.want[i])
				}
			}
		})
	}
}

func TestDeciderWait(t *testing.T) {
	d := &decider{p: Policy{Interval: 10 * time.Millisecond, Idle: 0.01, MaxIdle: 80 * time.Millisecond}}
	tests := []struct {
		share float64
		want  time.Duration
	}{
		{0.5, 10 * time.Millisecond},
		{0.01, 10 * time.Millisecond},
		{0.009, 80 * time.Millisecond},
		{0, 80 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := d.wait(tt.share); got != tt.want {
			t.Errorf("wait(%v) = %v, want %v", tt.share, got, tt.want)
		}
	}
}

// fakeRuntime is a clock and a CPU counter the test moves by hand.
type fakeRuntime struct {
	now, cpu atomic.Int64
	procs    atomic.Int32
	sets     atomic.Int32
}

func (f *fakeRuntime) rt(def int) Runtime {
	return Runtime{
		CPU: func() (time.Duration, bool) { return time.Duration(f.cpu.Load()), true },
		Now: func() time.Time { return time.Unix(0, f.now.Load()) },
		SetProc: func(n int) {
			f.sets.Add(1)
			if n == 0 {
				n = def
			}
			f.procs.Store(int32(n))
		},
		Default: func() int { return def },
	}
}

// load makes the fake process use share of a core per fake
// millisecond, one fake millisecond every 200 real microseconds, until
// the returned func stops it.
func (f *fakeRuntime) load(share float64) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(200 * time.Microsecond):
			}
			f.now.Add(int64(time.Millisecond))
			f.cpu.Add(int64(share * float64(time.Millisecond)))
		}
	}()
	return func() { close(quit); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling the controller's goroutine
	}
}

// TestKick: a controller that measures seldom (the process was idle)
// measures again within one interval once Kick says work starts.
func TestKick(t *testing.T) {
	Kick() // no controller: nothing to wake, nothing blocks
	f := &fakeRuntime{}
	pol := Policy{Up: 0.7, Down: 0.5, DownAfter: 2, Interval: time.Millisecond, Idle: 0.01, MaxIdle: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := start(ctx, pol, f.rt(4))
	defer func() { cancel(); stop() }()
	// Idle: the fake clock moves, the CPU does not; the next measure is
	// an hour off.
	waitFor(t, "the controller to back off", func() bool {
		f.now.Add(int64(time.Millisecond))
		return backedOff.Load()
	})
	// Busy from now on, with one kick: without it nothing would be
	// measured for an hour.
	f.now.Add(int64(time.Hour)) // a long idle spell the kick leaves out
	unload := f.load(1)
	defer unload()
	Kick()
	waitFor(t, "the default P count after a kick", func() bool { return f.procs.Load() == 4 })
}

func TestControllerFollowsTheLoad(t *testing.T) {
	f := &fakeRuntime{}
	pol := Policy{Up: 0.7, Down: 0.5, DownAfter: 2, Interval: time.Millisecond, Idle: 0.01, MaxIdle: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := start(ctx, pol, f.rt(4))
	waitFor(t, "one P at start", func() bool { return f.procs.Load() == 1 })
	// Every real millisecond the fake process uses a whole core of a
	// fake millisecond: busy.
	unload := f.load(1)
	waitFor(t, "the default P count under load", func() bool { return f.procs.Load() == 4 })
	unload()
	unload = f.load(0.1)
	waitFor(t, "one P once light", func() bool { return f.procs.Load() == 1 })
	unload()
	// stop ends the controller while ctx lives on (a command that returns
	// before its context ends), and returns with the default restored.
	stop()
	if got := f.procs.Load(); got != 4 {
		t.Errorf("after the controller stopped: %d Ps, want the default 4", got)
	}
}

func TestStartDoesNothing(t *testing.T) {
	tests := []struct {
		name string
		rt   func(f *fakeRuntime) Runtime
	}{
		{"one CPU", func(f *fakeRuntime) Runtime { return f.rt(1) }},
		{"no CPU clock", func(f *fakeRuntime) Runtime {
			r := f.rt(4)
			r.CPU = func() (time.Duration, bool) { return 0, false }
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRuntime{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start(ctx, DefaultPolicy, tt.rt(f))() // returns at once: nothing runs
			if f.sets.Load() != 0 {
				t.Errorf("the P count was set %d times", f.sets.Load())
			}
		})
	}
	t.Run("GOMAXPROCS in the environment", func(t *testing.T) {
		t.Setenv("GOMAXPROCS", "3")
		before := runtime.GOMAXPROCS(0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		Start(ctx)()
		if got := runtime.GOMAXPROCS(0); got != before {
			t.Errorf("GOMAXPROCS %d, want %d untouched", got, before)
		}
	})
	t.Run("a second controller", func(t *testing.T) {
		f1, f2 := &fakeRuntime{}, &fakeRuntime{}
		ctx, cancel := context.WithCancel(context.Background())
		stop := start(ctx, DefaultPolicy, f1.rt(4))
		start(ctx, DefaultPolicy, f2.rt(4))() // returns at once
		if f2.sets.Load() != 0 {
			t.Errorf("the second controller set the P count")
		}
		cancel()
		stop()
	})
}

// TestRealRuntime runs the controller on this process: a CPU-bound load
// takes it to the runtime's default, and back to one P when it ends.
func TestRealRuntime(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		def = 2
	}
	rt := realRuntime()
	// The default is at least two here, so the switch is seen even on a
	// one-CPU machine; SetProc(0) still goes through SetDefaultGOMAXPROCS
	// at the end.
	setDefault := rt.SetProc
	rt.SetProc = func(n int) {
		if n == 0 && runtime.NumCPU() < 2 {
			runtime.GOMAXPROCS(def)
			return
		}
		setDefault(n)
	}
	rt.Default = func() int { return def }
	// Low thresholds: under `make test` other packages' processes share
	// the CPUs, so the loop may get well under a core.
	pol := Policy{Up: 0.25, Down: 0.1, DownAfter: 3, Interval: 5 * time.Millisecond, Idle: 0.01, MaxIdle: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	stopCtl := start(ctx, pol, rt)
	defer func() { cancel(); stopCtl() }()
	waitFor(t, "one P at start", func() bool { return runtime.GOMAXPROCS(0) == 1 })

	var stop atomic.Bool
	done := make(chan struct{})
	go func() { // bounded: ends with the test
		defer close(done)
		deadline := time.Now().Add(20 * time.Second)
		for !stop.Load() && time.Now().Before(deadline) {
		}
	}()
	waitFor(t, "more Ps under a CPU-bound load", func() bool { return runtime.GOMAXPROCS(0) == def })
	stop.Store(true)
	<-done
	waitFor(t, "one P once idle", func() bool { return runtime.GOMAXPROCS(0) == 1 })
	cancel()
	stopCtl()
	if got := runtime.GOMAXPROCS(0); got != def && runtime.NumCPU() >= 2 {
		t.Errorf("after the controller stopped: GOMAXPROCS %d, want the default %d", got, def)
	}
}

func TestOneP(t *testing.T) {
	t.Cleanup(runtime.SetDefaultGOMAXPROCS)
	tests := []struct {
		name string
		env  string
		want int
	}{
		{"no GOMAXPROCS in the environment: one P", "", 1},
		{"GOMAXPROCS set: the user's choice stands", "2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(2)
			t.Setenv("GOMAXPROCS", tt.env)
			OneP()
			if got := runtime.GOMAXPROCS(0); got != tt.want {
				t.Errorf("after OneP: GOMAXPROCS = %d, want %d", got, tt.want)
			}
		})
	}
}

// After OneP, the controller still knows the default it may go up to:
// GOMAXPROCS(0) says 1 by then, and a controller that took that for the
// default never ran, leaving a busy tunnel on one core.
func TestStartAfterOneP(t *testing.T) {
	t.Cleanup(runtime.SetDefaultGOMAXPROCS)
	t.Setenv("GOMAXPROCS", "")
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skip("one CPU: the runtime's default is one P, nothing to go up to")
	}
	OneP()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("after OneP: GOMAXPROCS = %d, want 1", got)
	}
	if got := realRuntime().Default(); got != def {
		t.Fatalf("after OneP: the default the controller sees = %d, want %d", got, def)
	}
	// Every measure counts as busy: the controller goes up at once.
	busy := Policy{Up: 0, Down: 0, DownAfter: 1 << 20, Interval: time.Millisecond, Idle: 0, MaxIdle: time.Millisecond}
	stop := start(context.Background(), busy, realRuntime())
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.GOMAXPROCS(0) != def {
		if time.Now().After(deadline) {
			t.Fatalf("the controller never went up to %d Ps (GOMAXPROCS %d)", def, runtime.GOMAXPROCS(0))
		}
		time.Sleep(time.Millisecond) // polling the controller's switch
	}
}
