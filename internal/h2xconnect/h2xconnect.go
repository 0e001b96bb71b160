// Package h2xconnect turns on HTTP/2 extended CONNECT (RFC 8441) in the
// HTTP/2 servers of net/http and golang.org/x/net/http2, which connect-udp
// over HTTP/2 needs. Both read GODEBUG=http2xconnect=1 once, in their
// init, and offer no other switch; importing this package (for its side
// effect) sets it first.
//
//	import _ "github.com/porthole-dev/porthole/internal/h2xconnect"
//
// It works because Go initializes packages in import-path order among
// those whose imports are done (the spec, since Go 1.21): this package
// imports only os and strings, which net/http imports too, and
// "github.com/..." sorts before "golang.org/x/net/http2" and "net/http".
// The server's HTTP/2 test of connect-udp fails if that ever changes.
package h2xconnect

import (
	"os"
	"strings"
)

func init() {
	v := os.Getenv("GODEBUG")
	if strings.Contains(v, "http2xconnect=") {
		return // the user chose
	}
	if v != "" {
		v += ","
	}
	os.Setenv("GODEBUG", v+"http2xconnect=1")
}
