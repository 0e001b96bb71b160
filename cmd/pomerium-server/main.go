// Command pomerium-server is the bundled proxy and portal; see package server.
package main

import (
	"os"

	"github.com/porthole-dev/porthole/server"
)

func main() { os.Exit(server.Main(os.Args[1:])) }
