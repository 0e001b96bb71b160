package loadtest

import (
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestServerKilledMidRun kills the server (SIGKILL) while tunnels are
// carrying data and new ones keep starting, then starts it again: every
// tunnel either completes intact or fails visibly (never a wrong byte,
// never a truncated stream that ends like a complete one, never a hang),
// and once the server is back new tunnels work after one sign-in.
func TestServerKilledMidRun(t *testing.T) {
	s := &devServer{bin: testutil.BuildBinary(t, "pomerium-server"), dir: t.TempDir(), addr: testutil.FreeAddr(t)}
	s.start(t)
	c := startClient(t, s)
	var progress atomic.Int64
	const n, par = 400, 50
	killed, restarted := make(chan struct{}), make(chan struct{})
	var killedAt int
	// The kill and the restart happen while the run goes on: after 100
	// tunnels finished the server dies with ~50 in flight; it comes back
	// in the background and later tunnels find it again.
	go func() {
		<-killed
		s.start(t)
		close(restarted)
	}()
	out := run(c.addr, n, par, mib, 10000, &progress, func(done int) {
		if done == 100 {
			killedAt = done
			s.kill(t)
			close(killed)
		}
	})
	if killedAt == 0 {
		t.Fatal("the run ended before the server was killed")
	}
	select {
	case <-restarted:
	case <-time.After(3 * time.Minute):
		t.Fatal("server not back within 3m")
	}
	var intact, failed int
	kinds := map[string]int{}
	for i, o := range out {
		switch {
		case o.intact(mib):
			intact++
		case o.corrupt:
			t.Errorf("tunnel %d: received a byte that was not sent (sent %d, received %d)", i, o.sent, o.recv)
		case o.err == nil && errors.Is(o.werr, syscall.ECONNRESET):
			// The reset reached the writer first, which took the socket's
			// error; the reader then sees only the end. Still visible.
			failed++
			kinds["write: "+errKind(o.werr)]++
		case o.err == nil && o.recv < mib:
			// Short, but the read ended with a clean EOF: an application
			// that only reads cannot tell this from a complete stream.
			t.Errorf("tunnel %d: %d of %d bytes came back and then a clean end; want an error (reset) for a tunnel cut short", i, o.recv, o.sent)
		case o.err == nil:
			t.Errorf("tunnel %d: all %d bytes came back but it did not end cleanly: write: %v", i, o.recv, o.werr)
		default:
			failed++
			kinds[errKind(o.err)]++
		}
	}
	t.Logf("server killed after %d of %d tunnels: %d intact, %d failed visibly %v", killedAt, n, intact, failed, kinds)
	if intact < 100 {
		t.Errorf("only %d tunnels intact; want at least the 100 finished before the kill", intact)
	}
	if failed == 0 {
		t.Errorf("no tunnel failed: the kill did not land mid-run")
	}

	// After it is back: new tunnels all work, after at most one more
	// sign-in (the restarted dev server has new session keys).
	before := c.browserRuns()
	after := run(c.addr, 200, 200, mib, 20000, &progress, nil)
	for i, o := range after {
		if !o.intact(mib) {
			t.Errorf("after restart, tunnel %d: sent %d, received %d, corrupt=%v: read: %v, write: %v", i, o.sent, o.recv, o.corrupt, o.err, o.werr)
		}
	}
	if got := c.browserRuns() - before; got > 1 {
		t.Errorf("sign-ins for 200 concurrent tunnels after the restart: %d; want at most 1", got)
	}
	if c.browserRuns() > 2 {
		t.Errorf("sign-ins over the whole run: %d; want at most 2 (first start, restart)", c.browserRuns())
	}
	var dead error
	select {
	case <-c.stopped:
		dead = errors.New("pomerium-cli exited")
	default:
	}
	if dead != nil {
		t.Fatalf("%v during the run:\n%s", dead, tail(c.stderr.String()))
	}
}

// errKind names an error by its last words ("connection reset by peer").
func errKind(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
