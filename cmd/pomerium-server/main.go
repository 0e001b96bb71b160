// Command pomerium-server is the bundled proxy and portal; see package server.
package main

import (
	"os"

	"github.com/porthole-dev/porthole/server/servercmd"
)

func main() { os.Exit(servercmd.Main()) }
