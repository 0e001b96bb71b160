package bench

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func median[T float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func pct(xs []time.Duration, p float64) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func spread(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f / %.0f / %.0f", slices.Min(xs), median(xs), slices.Max(xs))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// verdict is "1.23x (goal >= 1.10x) ok" style text.
func verdict(ratio float64, goal string, ok bool) string {
	if goal == "" {
		return fmt.Sprintf("%.2fx", ratio)
	}
	mark := "MISSED"
	if ok {
		mark = "met"
	}
	txt := fmt.Sprintf("%.2f", ratio)
	if strings.Contains(goal, " "+txt+"x") {
		// At the goal to two places: a third shows which side it is on.
		txt = fmt.Sprintf("%.3f", ratio)
	}
	return fmt.Sprintf("%sx (goal %s, %s)", txt, goal, mark)
}

func report(w io.Writer, r *results, took time.Duration) {
	fmt.Fprintf(w, "\nporthole-bench: %d interleaved rounds (h2, --http1, relay, ...), %d MiB per throughput run, %s/%s, %d CPUs, %s\n",
		r.rounds, r.payload>>20, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), took.Round(time.Second))
	fmt.Fprintln(w, "min / median / max over rounds; ratios compare medians (h2 = pomerium-cli default, relay = minimal stdlib relay, same hops)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	h2, h1, relay := 0, 1, 2
	fmt.Fprintf(tw, "measure\t%s\t%s\t%s\th2 vs relay\t%s vs relay\n", r.targets[h2].name, r.targets[h1].name, r.targets[relay].name, r.targets[h1].name)
	for _, n := range r.conns {
		t := r.thr[n]
		q2, q1 := median(t[h2])/median(t[relay]), median(t[h1])/median(t[relay])
		fmt.Fprintf(tw, "throughput, %d conn%s (MiB/s)\t%s\t%s\t%s\t%s\t%s\n", n, plural(n), spread(t[h2]), spread(t[h1]), spread(t[relay]),
			verdict(q2, ">= 1.10x", q2 >= 1.10), verdict(q1, "", false))
	}
	cpu := func(i int) float64 { return r.cpu[i].Seconds() / (float64(r.moved[i]) / (1 << 30)) }
	c2, c1 := cpu(h2)/cpu(relay), cpu(h1)/cpu(relay)
	fmt.Fprintf(tw, "CPU s per GiB, client+server\t%.2f\t%.2f\t%.2f\t%s\t%s\n", cpu(h2), cpu(h1), cpu(relay),
		verdict(c2, "<= 0.90x", c2 <= 0.90), verdict(c1, "", false))
	cli := func(i int) float64 { return r.cpuCli[i].Seconds() / (float64(r.moved[i]) / (1 << 30)) }
	fmt.Fprintf(tw, "  of which client\t%.2f\t%.2f\t%.2f\t%.2fx\t%.2fx\n", cli(h2), cli(h1), cli(relay), cli(h2)/cli(relay), cli(h1)/cli(relay))
	srv := func(i int) float64 { return cpu(i) - cli(i) }
	fmt.Fprintf(tw, "  of which server\t%.2f\t%.2f\t%.2f\t%.2fx\t%.2fx\n", srv(h2), srv(h1), srv(relay), srv(h2)/srv(relay), srv(h1)/srv(relay))
	p50 := func(i int) time.Duration { return pct(r.ttfb[i].d, 0.50) }
	p99 := func(i int) time.Duration { return pct(r.ttfb[i].d, 0.99) }
	t2, t1 := float64(p50(h2))/float64(p50(relay)), float64(p50(h1))/float64(p50(relay))
	fmt.Fprintf(tw, "first byte, new conn, p50 (ms, %d conns)\t%s\t%s\t%s\t%s\t%s\n", len(r.ttfb[h2].d), ms(p50(h2)), ms(p50(h1)), ms(p50(relay)),
		verdict(t2, "<= 0.35x", t2 <= 0.35), verdict(t1, "<= 1.2x", t1 <= 1.2))
	fmt.Fprintf(tw, "first byte, new conn, p99 (ms)\t%s\t%s\t%s\t%.2fx\t%.2fx\n", ms(p99(h2)), ms(p99(h1)), ms(p99(relay)),
		float64(p99(h2))/float64(p99(relay)), float64(p99(h1))/float64(p99(relay)))
	// Where a first byte's time goes on a small machine: every process on
	// the path is woken and runs on the same few CPUs, so the work and the
	// thread wake-ups each connection costs weigh on the next.
	perConn := func(i int) float64 { return r.ttfb[i].cpuMs() }
	fmt.Fprintf(tw, "  CPU per new conn, client+server (ms)\t%.3f\t%.3f\t%.3f\t%.2fx\t%.2fx\n", perConn(h2), perConn(h1), perConn(relay),
		perConn(h2)/perConn(relay), perConn(h1)/perConn(relay))
	sw := func(i int) float64 { return r.ttfb[i].switches() }
	fmt.Fprintf(tw, "  context switches per new conn, client+server\t%.1f\t%.1f\t%.1f\t%.2fx\t%.2fx\n", sw(h2), sw(h1), sw(relay),
		sw(h2)/sw(relay), sw(h1)/sw(relay))
	rtt := func(i int) time.Duration { return pct(r.rtt[i], 0.50) }
	fmt.Fprintf(tw, "  round trip, open conn, p50 (ms)\t%s\t%s\t%s\t%.2fx\t%.2fx\n", ms(rtt(h2)), ms(rtt(h1)), ms(rtt(relay)),
		float64(rtt(h2))/float64(rtt(relay)), float64(rtt(h1))/float64(rtt(relay)))
	// The one-shot commands against the figures when the goals were set
	// (27 ms and 6 ms median wall on this kind of machine): the tunnel's
	// work must not slow them.
	cmd := func(what string, xs [][]time.Duration, goal time.Duration) {
		m2, m1 := pct(xs[h2], 0.50), pct(xs[h1], 0.50)
		fmt.Fprintf(tw, "%s, p50 (ms, %d runs)\t%s\t%s\t-\t%s\t%s\n", what, len(xs[h2]), ms(m2), ms(m1),
			goalMs(m2, goal), goalMs(m1, goal))
	}
	cmd("pomerium-cli --help, wall", r.help, 6*time.Millisecond)
	cmd("routes list, token cached, wall", r.list, 27*time.Millisecond)
	kib := func(b float64) string { return fmt.Sprintf("%.1f", b/1024) }
	fmt.Fprintf(tw, "client KiB per idle conn (%d)\t%s\t%s\t%s\t%s\t%s\n", r.idle, kib(r.memCli[h2]), kib(r.memCli[h1]), kib(r.memCli[relay]),
		goalAbs(r.memCli[h2], 24), goalAbs(r.memCli[h1], 0))
	fmt.Fprintf(tw, "server KiB per idle conn (%d)\t%s\t%s\t%s\t%s\t%s\n", r.idle, kib(r.memSrv[h2]), kib(r.memSrv[h1]), kib(r.memSrv[relay]),
		goalAbs(r.memSrv[h2], 32), goalAbs(r.memSrv[h1], 0))
	tw.Flush()
	if len(r.floor[0].d) > 0 {
		fmt.Fprintf(w, "floor: a bare stream mux with the same processes and hops (7-byte frames over one connection; no HTTP/2, flow control or policy):\n")
		for k, name := range []string{"plain TCP", "TLS"} {
			fl := &r.floor[k]
			f := pct(fl.d, 0.50)
			fmt.Fprintf(w, "  over %s: first byte p50 %s ms, %.2fx the relay's; h2 (default) takes %.2fx its time; per new conn, front+back: CPU %.3f ms, %.1f context switches\n",
				name, ms(f), float64(f)/float64(p50(relay)), float64(p50(h2))/float64(f), fl.cpuMs(), fl.switches())
		}
	}
	startLines(w, r.start, r.help[h2], r.list[h2])
	fmt.Fprintln(w, strings.Repeat("-", 40))
	fmt.Fprintln(w, "throughput: one-way payload rate of a concurrent echo; CPU: utime+stime of the client and server processes during the throughput runs;")
	fmt.Fprintln(w, "first byte: dial, 1 byte out, 1 byte back, one connection at a time; round trip: 1 byte out and back on a connection already open")
	fmt.Fprintln(w, "(the data path alone: the floor under a first byte); CPU and context switches per new conn: during the first-byte runs; memory: VmRSS growth with the connections open and idle;")
	fmt.Fprintln(w, "--help and routes list: wall time from exec to exit, the list fetched from the server with the token from the sign-in.")
}

// startLines sets the one-shot commands (of h2's build) beside a Go
// program that only starts: their goals are wall times from the day the
// goals were set, and this is how fast this host starts any Go program
// today.
func startLines(w io.Writer, start, help, list []time.Duration) {
	if len(start) == 0 || len(help) == 0 || len(list) == 0 {
		return
	}
	st := pct(start, 0.50)
	fmt.Fprintf(w, "start: a static Go program with the same runtime, net/http and crypto/tls that does nothing (porthole-bench start) takes %s ms p50 here;\n", ms(st))
	fmt.Fprintf(w, "  h2 (default)'s --help takes %.2fx its time, routes list %.2fx\n",
		float64(pct(help, 0.50))/float64(st), float64(pct(list, 0.50))/float64(st))
}

func goalMs(d, goal time.Duration) string {
	mark := "MISSED"
	if d <= goal {
		mark = "met"
	}
	return fmt.Sprintf("goal <= %d ms, %s", goal.Milliseconds(), mark)
}

func goalAbs(b float64, goalKiB int) string {
	if goalKiB == 0 {
		return "-"
	}
	mark := "MISSED"
	if b/1024 <= float64(goalKiB) {
		mark = "met"
	}
	return fmt.Sprintf("goal <= %d KiB, %s", goalKiB, mark)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
