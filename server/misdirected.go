package server

import (
	"net/http"
	"strings"
)

// misdirected reports whether r names a host other than the one its TLS
// connection was opened for (SNI). Such a request gets 421, as Envoy
// answers: a browser that reused a connection for another host (HTTP/2
// coalescing under a wildcard certificate) retries on a new one, and no
// request is routed by a Host the handshake did not agree to. Requests
// without SNI (a client dialing an IP address) are not judged. CONNECT
// names its tunnel's destination, not this server, and so does
// connect-udp over HTTP/1.1 (PROTOCOL.md): both are left alone.
func misdirected(r *http.Request) bool {
	if r.TLS == nil || r.TLS.ServerName == "" || r.Method == http.MethodConnect {
		return false
	}
	if hasPathPrefix(r.URL.Path, "/.well-known/masque/udp") {
		return false
	}
	return !strings.EqualFold(normalHost(hostOnly(r.Host)), normalHost(r.TLS.ServerName))
}

// normalHost drops IPv6 brackets, which SNI never has. The Host's
// trailing dot is gone already (stripHostDot, at the top of the handler).
func normalHost(h string) string {
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

func writeMisdirected(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		// HTTP/2 would end every other stream of the connection with it.
		w.Header().Set("Connection", "close")
	}
	http.Error(w, "misdirected request: this connection was opened for another host; open a new connection for this one", http.StatusMisdirectedRequest)
}
