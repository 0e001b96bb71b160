// Package server is pomerium-server: routes, policies, OIDC sign-in, the
// routes portal and its JSON API, the login API, CONNECT tunnels and the
// HTTP reverse proxy. With --dev it runs alone with its own CA, a built-in
// OpenID provider and sample upstreams.
package server

import (
	"fmt"
	"os"
)

// Main runs the server with args and returns the exit code.
func Main(args []string) int {
	fmt.Fprintln(os.Stderr, "pomerium-server: not implemented yet")
	return 1
}
