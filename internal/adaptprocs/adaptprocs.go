// Package adaptprocs runs a tunnel process on one P (GOMAXPROCS=1) while
// one core is more than it needs, and on the runtime's default once it
// is busy.
//
// Why: with more than one P, every goroutine the tunnel's path makes
// runnable (a new stream's reader, the answer handed to the goroutine
// opening the stream, an accepted connection's handler) also wakes an
// idle thread to look for work on another CPU. On a new connection that
// is several thread wake-ups in each process, competing for the CPUs
// with the processes the connection passes through (the application,
// the upstream). Measured on the bench's 2-CPU VM, one P makes a new
// connection's first byte 11-15% faster, client and server each about
// half of that, but it caps a bulk transfer at one core: hence the
// switch, on the CPU the process used over the last few milliseconds.
//
// The thresholds leave a gap (hysteresis): more Ps cost CPU of their
// own (the spinning threads), so a load measured on several Ps would
// use less on one.
package adaptprocs

import (
	"context"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Policy is when to switch, as a share of one core's time used by the
// whole process over an interval.
type Policy struct {
	Up        float64       // on one P, a share at or above this switches to the default
	Down      float64       // on the default, a share below this ...
	DownAfter int           // ... for this many intervals in a row switches to one P
	Interval  time.Duration // between measures while the process works
	Idle      float64       // a share below this is idle: the next measure is ...
	MaxIdle   time.Duration // ... this far off, so an idle process seldom wakes
}

// DefaultPolicy is what Start uses. On the bench's VM a new connection
// every ~0.7 ms used 0.31-0.38 of a core in each process on one P and
// 0.38-0.42 on two; a bulk transfer uses a whole core on one P. An idle
// process is measured five times a second; Kick (a new connection or
// request) brings the next measure forward to within 10 ms.
var DefaultPolicy = Policy{Up: 0.70, Down: 0.55, DownAfter: 3, Interval: 10 * time.Millisecond, Idle: 0.01, MaxIdle: 200 * time.Millisecond}

// decider holds the state between measures; next is the P count for the
// share just measured.
type decider struct {
	p    Policy
	most int // the runtime's default P count
	cur  int
	lows int
}

func (d *decider) next(share float64) int {
	if d.cur == 1 {
		if share >= d.p.Up {
			d.cur, d.lows = d.most, 0
		}
		return d.cur
	}
	if share >= d.p.Down {
		d.lows = 0
		return d.cur
	}
	d.lows++
	if d.lows >= d.p.DownAfter {
		d.cur, d.lows = 1, 0
	}
	return d.cur
}

// wait is the interval before the next measure: seldom once idle, since
// Kick brings the next measure forward when work starts.
func (d *decider) wait(share float64) time.Duration {
	if share >= d.p.Idle {
		return d.p.Interval
	}
	return max(d.p.MaxIdle, d.p.Interval)
}

// Runtime is what the controller reads and sets; tests pass their own.
type Runtime struct {
	CPU     func() (time.Duration, bool) // the process's CPU time so far
	Now     func() time.Time
	SetProc func(n int) // n == 0: the runtime's default
	Default func() int  // the runtime's default P count
}

func realRuntime() Runtime {
	return Runtime{
		CPU: processCPU,
		Now: time.Now,
		SetProc: func(n int) {
			if n == 0 {
				runtime.SetDefaultGOMAXPROCS()
				return
			}
			runtime.GOMAXPROCS(n)
		},
		Default: defaultProcs,
	}
}

var running sync.Mutex // one controller per process

// The running controller's wake-up: GOMAXPROCS is the process's, so is
// the controller, and the code that opens connections reaches it without
// holding a reference.
var (
	kick      = make(chan struct{}, 1)
	backedOff atomic.Bool // the controller measures seldom: the process was idle
)

// Kick says work is starting (a connection opened, a request came in).
// A controller measuring seldom because the process was idle measures
// within one Interval instead of MaxIdle, so a transfer that starts after
// a quiet spell gets every P within a few milliseconds. Otherwise (and
// with no controller) it is one atomic load.
func Kick() {
	if backedOff.Load() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// OneP puts the process on one P unless GOMAXPROCS is set in the
// environment (the user's choice stands). It is for a command line tool
// at its start: a one-shot command (a routes list, a sign-in) has no CPU
// work to spread, and on more Ps each goroutine its HTTP request makes
// runnable also wakes a thread on another CPU. Measured on the bench's
// 2-CPU VM: `routes list` 7-11% faster, with a third fewer context
// switches. A command that goes on to serve tunnels runs Start, which
// takes it from one P to the default when it gets busy.
func OneP() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) > 1 {
		oneP.Store(int32(runtime.GOMAXPROCS(1)))
	}
}

// oneP is the P count OneP left (the runtime's default then), 0 before:
// the count Start may go up to, which GOMAXPROCS(0) no longer tells.
var oneP atomic.Int32

// defaultProcs is the runtime's default P count, also after OneP.
func defaultProcs() int {
	return max(runtime.GOMAXPROCS(0), int(oneP.Load()))
}

// Start runs the controller with DefaultPolicy until ctx ends or stop is
// called; stop ends it and returns once the runtime's default P count is
// back. It does nothing where GOMAXPROCS is set in the environment (the
// user's choice stands), where the default is one P, where the process
// CPU time cannot be read, or while another controller runs.
func Start(ctx context.Context) (stop func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	return start(ctx, DefaultPolicy, realRuntime())
}

func start(ctx context.Context, p Policy, rt Runtime) (stop func()) {
	if _, ok := rt.CPU(); !ok || !running.TryLock() {
		return func() {}
	}
	most := rt.Default()
	if most <= 1 {
		running.Unlock()
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer running.Unlock()
		run(ctx, p, rt, most)
	}()
	return func() { cancel(); <-done }
}

func run(ctx context.Context, p Policy, rt Runtime, most int) {
	d := &decider{p: p, most: most, cur: 1}
	rt.SetProc(1)
	defer rt.SetProc(0)
	lastCPU, _ := rt.CPU()
	lastT := rt.Now()
	interval := p.Interval
	t := time.NewTimer(interval)
	defer t.Stop()
	defer backedOff.Store(false)
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
			// Measure the work that starts now, not the idle spell before.
			backedOff.Store(false)
			lastCPU, _ = rt.CPU()
			lastT = rt.Now()
			interval = p.Interval
			t.Reset(interval) // no stale tick: Go 1.23's timers
			continue
		case <-t.C:
		}
		cpu, _ := rt.CPU()
		now := rt.Now()
		el := now.Sub(lastT)
		if el <= 0 { // a clock that did not move tells nothing
			t.Reset(interval)
			continue
		}
		share := float64(cpu-lastCPU) / float64(el)
		lastCPU, lastT = cpu, now
		prev := d.cur
		if n := d.next(share); n != prev {
			if n == most {
				rt.SetProc(0)
			} else {
				rt.SetProc(n)
			}
		}
		interval = d.wait(share)
		backedOff.Store(interval > p.Interval)
		t.Reset(interval)
	}
}
