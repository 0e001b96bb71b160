// Command porthole-bench is the harness behind `make bench`: the tunnel
// (HTTP/2 and --http1) against a minimal relay, each in its own processes.
package main

import (
	"os"

	"github.com/porthole-dev/porthole/internal/bench"
)

func main() { os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr)) }
