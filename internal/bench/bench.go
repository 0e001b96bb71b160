// Package bench is the side-by-side benchmark of `make bench`: it starts
// a loopback echo, the real pomerium-server and pomerium-cli (once with
// HTTP/2, once with --http1) and the minimal relay of package loopback,
// each in its own process, runs the same load through each in interleaved
// rounds, and prints one table with the goals of issue 16 as ratios.
//
// The same executable is also each helper process (echo, relay halves,
// the sign-in "browser"): the first argument picks the role.
package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/porthole-dev/porthole/internal/loopback"
)

// Main runs the harness (no arguments, or flags) or one helper role.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "start" {
		// The baseline of the one-shot commands' wall time: this static Go
		// program (its runtime and the inits of net/http and crypto/tls,
		// which pomerium-cli links too) started and ended, doing nothing.
		return 0
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if err := helper(args[0], args[1:], stdout); err != nil {
			fmt.Fprintf(stderr, "porthole-bench %s: %v\n", args[0], err)
			return 1
		}
		return 0
	}
	o := defaultOptions()
	fs := flag.NewFlagSet("porthole-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.binDir, "bin", "bin", "`dir` holding pomerium-cli and pomerium-server")
	fs.IntVar(&o.rounds, "rounds", o.rounds, "interleaved rounds per measure (at least 5 for the report)")
	fs.Int64Var(&o.payloadMiB, "payload", o.payloadMiB, "`MiB` echoed per throughput run, split over its connections")
	fs.IntVar(&o.ttfbConns, "ttfb-conns", o.ttfbConns, "new connections timed per configuration, over all rounds")
	fs.IntVar(&o.idleConns, "idle-conns", o.idleConns, "idle connections held for the memory measure")
	fs.StringVar(&o.compare, "compare", "", "`dir` of other pomerium-cli and pomerium-server builds: measured with HTTP/2 in place of --http1 (an A/B of two builds in one run)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "porthole-bench: %v\n", err)
		return 1
	}
	return 0
}

type options struct {
	binDir     string
	rounds     int
	payloadMiB int64
	ttfbConns  int
	idleConns  int
	conns      []int
	compare    string
}

func defaultOptions() options {
	return options{rounds: 5, payloadMiB: 256, ttfbConns: 500, idleConns: 1000, conns: []int{1, 8, 64}}
}

// helper runs one role of a child process. Each prints the address it
// listens on as its first line of stdout.
func helper(role string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	to := fs.String("to", "", "`host:port` to relay to")
	cert := fs.String("cert", "", "PEM certificate (relay-server, mux-back) or CA (relay-client, mux-front, browse)")
	key := fs.String("key", "", "PEM key (relay-server, mux-back)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if role == "browse" {
		return browse(*cert, fs.Arg(fs.NArg()-1))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, ln.Addr())
	switch role {
	case "echo":
		return loopback.Echo(ln)
	case "relay-server":
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			return err
		}
		return loopback.RelayServer(ln, &tls.Config{Certificates: []tls.Certificate{pair}}, *to)
	case "relay-client":
		pool, err := loadPool(*cert)
		if err != nil {
			return err
		}
		return loopback.RelayClient(ln, &tls.Config{RootCAs: pool}, *to)
	case "mux-back":
		if *cert != "" {
			pair, err := tls.LoadX509KeyPair(*cert, *key)
			if err != nil {
				return err
			}
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}})
		}
		return loopback.MuxBack(ln, *to)
	case "mux-front":
		dial := func() (net.Conn, error) { return net.Dial("tcp", *to) }
		if *cert != "" {
			pool, err := loadPool(*cert)
			if err != nil {
				return err
			}
			dial = func() (net.Conn, error) { return tls.Dial("tcp", *to, &tls.Config{RootCAs: pool}) }
		}
		return loopback.MuxFront(ln, dial)
	}
	return fmt.Errorf("unknown role %q (echo, relay-server, relay-client, mux-back, mux-front, browse)", role)
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// browse is the sign-in "browser": it follows the URL with a cookie jar
// (the dev provider's auto-login answers at once) to the CLI's callback.
func browse(caFile, u string) error {
	pool, err := loadPool(caFile)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("sign-in ended with " + resp.Status)
	}
	return nil
}
