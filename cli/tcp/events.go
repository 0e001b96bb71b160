package tcp

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/tunnel"
)

// eventPrinter turns tunnel events into stderr lines. Default: one line
// per connecting, connected, closed and error; --verbose adds the proxy,
// the peer, the sign-in URL and timings.
type eventPrinter struct {
	mu      sync.Mutex // events arrive from many connections
	w       io.Writer
	verbose bool
	dest    tunnel.Destination
	// quietErrors leaves errors to the command's own Error: line (stdio
	// mode carries one connection, whose error ends the command).
	quietErrors bool
}

func (p *eventPrinter) print(e tunnel.Event) {
	line := p.format(e)
	if line == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verbose {
		t := e.Time
		if t.IsZero() {
			t = time.Now()
		}
		fmt.Fprintf(p.w, "%s %s\n", t.Format("15:04:05.000"), termtext.Escape(line))
		return
	}
	fmt.Fprintln(p.w, termtext.Escape(line))
}

func (p *eventPrinter) format(e tunnel.Event) string {
	id := ""
	if e.ConnID != 0 {
		id = fmt.Sprintf("[#%d] ", e.ConnID)
	}
	switch e.Kind {
	case tunnel.EventListening:
		return "" // tcpRun prints "Listening on ADDR" itself
	case tunnel.EventConnecting:
		if !p.verbose {
			return fmt.Sprintf("%sconnecting to %s", id, p.dest.Authority)
		}
		via := ""
		if p.dest.Proxy != nil {
			via = " via " + p.dest.Proxy.String()
		}
		from := ""
		if e.Addr != "" {
			from = " from " + e.Addr
		}
		return fmt.Sprintf("%sconnecting to %s%s%s", id, p.dest.Authority, via, from)
	case tunnel.EventSignIn:
		if !p.verbose {
			return "" // authflow prints the URL already
		}
		return fmt.Sprintf("%ssign-in needed: %s", id, e.SignInURL)
	case tunnel.EventConnected:
		return fmt.Sprintf("%sconnected to %s", id, p.dest.Authority)
	case tunnel.EventClosed:
		s := fmt.Sprintf("%sclosed: sent %s, received %s", id, cmdutil.Bytes(e.BytesSent), cmdutil.Bytes(e.BytesReceived))
		if p.verbose {
			s += fmt.Sprintf(" in %s", e.Duration.Round(time.Millisecond))
		}
		return s
	case tunnel.EventError:
		if p.quietErrors && !p.verbose {
			return ""
		}
		if e.Err == nil {
			return fmt.Sprintf("%serror", id)
		}
		server := ""
		if p.dest.Proxy != nil {
			server = p.dest.Proxy.String()
		}
		return fmt.Sprintf("%serror: %s", id, cmdutil.ExplainLine(e.Err, server))
	}
	if p.verbose {
		return id + e.String()
	}
	return ""
}
