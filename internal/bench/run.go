package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// target is one configuration under test: a local address that echoes,
// and the processes whose CPU and memory count for it.
type target struct {
	name   string
	addr   string
	client *proc // the near side (pomerium-cli, or the relay's client half)
	server *proc // the far side (pomerium-server, or the relay's server half)
	// For pomerium-cli targets: the server's URL and CA, for the
	// one-shot commands timed beside the tunnel (empty for the relay).
	serverURL, ca string
}

// results holds every sample, per target index.
type results struct {
	thr      map[int][][]float64 // conns -> target -> MiB/s per round
	cpu      []time.Duration     // client+server CPU during throughput runs
	cpuCli   []time.Duration     // the client's share
	moved    []int64             // bytes echoed during throughput runs
	ttfb     []firstByteRuns
	floor    [2]firstByteRuns  // through the bare mux: plain, TLS
	rtt      [][]time.Duration // one byte there and back on an open connection
	help     [][]time.Duration // wall time of `pomerium-cli --help`
	list     [][]time.Duration // wall time of `routes list` with the token cached
	start    []time.Duration   // wall time of this program started to do nothing
	memCli   []float64         // bytes per idle connection
	memSrv   []float64
	idle     int
	rounds   int
	payload  int64
	conns    []int
	targets  []*target
	setupDur time.Duration
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	started := time.Now()
	raiseFileLimit()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(o.binDir)
	if err != nil {
		return err
	}
	for _, b := range []string{"pomerium-cli", "pomerium-server"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return fmt.Errorf("%s: %w (run `make build` first, or pass -bin)", b, err)
		}
	}
	dir, err := os.MkdirTemp("", "porthole-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ps := &procs{dir: dir, self: self}
	defer ps.stopAll()

	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }
	logf("starting echo, relay, two servers and two clients")
	_, echo, err := ps.startHelper(ctx, "echo")
	if err != nil {
		return err
	}
	cert, key, err := writeCert(dir)
	if err != nil {
		return err
	}
	rs, rsAddr, err := ps.startHelper(ctx, "relay-server", "-cert", cert, "-key", key, "-to", echo)
	if err != nil {
		return err
	}
	rc, rcAddr, err := ps.startHelper(ctx, "relay-client", "-cert", cert, "-to", rsAddr)
	if err != nil {
		return err
	}
	var targets []*target
	second := struct {
		name, dir, bin string
		extra          []string
	}{"--http1", "h1", bin, []string{"--http1"}}
	if o.compare != "" {
		if second.bin, err = filepath.Abs(o.compare); err != nil {
			return err
		}
		second.name, second.extra = "h2 (-compare)", nil
	}
	for _, c := range []struct {
		name, dir, bin string
		extra          []string
	}{{"h2 (default)", "h2", bin, nil}, second} {
		srv, addr, ca, err := ps.startServer(ctx, c.bin, c.dir, echo)
		if err != nil {
			return err
		}
		cli, local, err := ps.startClient(ctx, c.bin, c.dir, addr, ca, c.extra...)
		if err != nil {
			return err
		}
		targets = append(targets, &target{name: c.name, addr: local, client: cli, server: srv, serverURL: "https://" + addr, ca: ca})
	}
	if err := echoOnce(rcAddr); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	targets = append(targets, &target{name: "relay", addr: rcAddr, client: rc, server: rs})
	// The floors: the same processes and hops with nothing but framing,
	// over plain TCP and over TLS.
	var floors []*target
	for _, tlsArgs := range [][2][]string{{nil, nil}, {{"-cert", cert, "-key", key}, {"-cert", cert}}} {
		backProc, back, err := ps.startHelper(ctx, "mux-back", append([]string{"-to", echo}, tlsArgs[0]...)...)
		if err != nil {
			return err
		}
		frontProc, front, err := ps.startHelper(ctx, "mux-front", append([]string{"-to", back}, tlsArgs[1]...)...)
		if err != nil {
			return err
		}
		if err := echoOnce(front); err != nil {
			return fmt.Errorf("mux floor: %w", err)
		}
		floors = append(floors, &target{name: "mux floor", addr: front, client: frontProc, server: backProc})
	}

	r := &results{thr: map[int][][]float64{}, cpu: make([]time.Duration, len(targets)), cpuCli: make([]time.Duration, len(targets)), moved: make([]int64, len(targets)),
		ttfb: make([]firstByteRuns, len(targets)), rtt: make([][]time.Duration, len(targets)),
		help: make([][]time.Duration, len(targets)), list: make([][]time.Duration, len(targets)), memCli: make([]float64, len(targets)), memSrv: make([]float64, len(targets)),
		idle: o.idleConns, rounds: o.rounds, payload: o.payloadMiB << 20, conns: o.conns, targets: targets, setupDur: time.Since(started)}

	// Memory first, while every process is fresh: later rounds would leave
	// heap behind for the idle connections to reuse.
	for i, t := range targets {
		logf("memory: %d idle connections through %s", o.idleConns, t.name)
		if r.memCli[i], r.memSrv[i], err = idleMemory(t, o.idleConns); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	per := max(o.ttfbConns/o.rounds, 1)
	for round := range o.rounds {
		logf("round %d/%d", round+1, o.rounds)
		for i, t := range targets {
			if err := r.ttfb[i].add(t, per); err != nil {
				return err
			}
			if t.name == "relay" { // the floors' runs follow the relay's, in every round
				for k, f := range floors {
					if err := r.floor[k].add(f, per); err != nil {
						return err
					}
				}
			}
			d, err := roundTrips(t.addr, per)
			if err != nil {
				return fmt.Errorf("%s: round trips: %w", t.name, err)
			}
			r.rtt[i] = append(r.rtt[i], d...)
			if t.serverURL == "" {
				continue
			}
			for range cliRunsPerRound {
				d, err := t.runCLI(ctx, "--help")
				if err != nil {
					return fmt.Errorf("%s: --help: %w", t.name, err)
				}
				r.help[i] = append(r.help[i], d)
				if d, err = t.runCLI(ctx, "routes", "list", t.serverURL, "--alternate-ca-path", t.ca, "-o", "json"); err != nil {
					return fmt.Errorf("%s: routes list: %w", t.name, err)
				}
				r.list[i] = append(r.list[i], d)
			}
		}
		for range cliRunsPerRound {
			d, err := timeRun(ctx, self, nil, "start")
			if err != nil {
				return fmt.Errorf("porthole-bench start: %w", err)
			}
			r.start = append(r.start, d)
		}
		for _, n := range o.conns {
			if r.thr[n] == nil {
				r.thr[n] = make([][]float64, len(targets))
			}
			for i, t := range targets {
				c0, s0 := cpuOf(t)
				bps, err := throughput(t.addr, n, r.payload)
				if err != nil {
					return fmt.Errorf("%s: throughput over %d connections: %w", t.name, n, err)
				}
				c1, s1 := cpuOf(t)
				r.cpu[i] += c1 - c0 + s1 - s0
				r.cpuCli[i] += c1 - c0
				r.moved[i] += r.payload
				r.thr[n][i] = append(r.thr[n][i], bps/(1<<20))
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	report(stdout, r, time.Since(started))
	return nil
}

// cliRunsPerRound is how many times each one-shot command runs per round.
const cliRunsPerRound = 4

// runCLI times one run of the target's pomerium-cli (its environment:
// the signed-in token cache) to exit.
func (t *target) runCLI(ctx context.Context, args ...string) (time.Duration, error) {
	return timeRun(ctx, t.client.cmd.Path, t.client.cmd.Env, args...)
}

// timeRun times one run of the program at path, from exec to exit.
func timeRun(ctx context.Context, path string, env []string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &limitedBuffer{buf: &out, max: 4 << 10}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out.String())
	}
	return time.Since(start), nil
}

func cpuOf(t *target) (time.Duration, time.Duration) {
	c, _ := t.client.cpu()
	s, _ := t.server.cpu()
	return c, s
}

// firstByteRuns holds the first bytes timed through one target, with the
// CPU and the context switches its client and server spent meanwhile.
type firstByteRuns struct {
	d   []time.Duration
	cpu time.Duration
	sw  int64
}

// add times the first byte of n new connections through t, one at a
// time.
func (f *firstByteRuns) add(t *target, n int) error {
	c0, s0 := cpuOf(t)
	w0 := switchesOf(t)
	d, err := ttfb(t.addr, n)
	if err != nil {
		return fmt.Errorf("%s: time to first byte: %w", t.name, err)
	}
	c1, s1 := cpuOf(t)
	f.d = append(f.d, d...)
	f.cpu += c1 - c0 + s1 - s0
	f.sw += switchesOf(t) - w0
	return nil
}

// cpuMs is the CPU per new connection, in milliseconds.
func (f *firstByteRuns) cpuMs() float64 { return f.cpu.Seconds() * 1000 / float64(len(f.d)) }

// switches is the context switches per new connection.
func (f *firstByteRuns) switches() float64 { return float64(f.sw) / float64(len(f.d)) }

// switchesOf is the context switches of the target's client and server.
func switchesOf(t *target) int64 {
	c, _ := t.client.switches()
	s, _ := t.server.switches()
	return c + s
}

// idleMemory is the growth of each side's resident memory per connection
// while n tunneled connections sit idle.
func idleMemory(t *target, n int) (float64, float64, error) {
	c0, err := t.client.rss()
	if err != nil {
		return 0, 0, err
	}
	s0, err := t.server.rss()
	if err != nil {
		return 0, 0, err
	}
	release, err := holdIdle(t.addr, n)
	if err != nil {
		return 0, 0, err
	}
	defer release()
	// Let both sides finish their side of the last connections.
	time.Sleep(time.Second)
	c1, err := t.client.rss()
	if err != nil {
		return 0, 0, err
	}
	s1, err := t.server.rss()
	if err != nil {
		return 0, 0, err
	}
	return float64(c1-c0) / float64(n), float64(s1-s0) / float64(n), nil
}

// raiseFileLimit lets the harness and its children hold the idle
// connections (children inherit the limit).
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
