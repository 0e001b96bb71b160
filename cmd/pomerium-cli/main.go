// Command pomerium-cli is the command-line client; see package cli.
package main

import (
	"os"

	"github.com/porthole-dev/porthole/cli"
)

func main() { os.Exit(cli.Main()) }
