package tcp

import (
	"io"

	"github.com/porthole-dev/porthole/tunnel"
)

// EventPrinter is the stderr event printer of `tcp` for other tunnel
// commands (udp, proxy): one line per connecting, connected, closed and
// error; verbose adds the proxy, the peer, the sign-in URL and timings.
func EventPrinter(w io.Writer, verbose bool, dest tunnel.Destination) func(tunnel.Event) {
	p := &eventPrinter{w: w, verbose: verbose, dest: dest}
	return p.print
}
