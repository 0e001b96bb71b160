package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/routing"
)

// policyRequest is what the PPL request criteria see of r. The client
// certificate counts only once checkClientCert verified it against the
// route's client CA.
func policyRequest(r *http.Request, rt *routing.Route) *policy.Request {
	req := &policy.Request{
		Method:        r.Method,
		Path:          r.URL.Path,
		SourceIP:      net.ParseIP(sourceIP(r, rt.XFFNumTrustedHops)),
		CORSPreflight: isCORSPreflight(r),
	}
	req.ClientCert = verifiedCert(r)
	return req
}

// forbidden is the 403 page: the policy's explanation and remediation
// when it has them (text/plain, so nothing in them is markup).
func forbidden(w http.ResponseWriter, rt *routing.Route) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "access to %s is denied by its policy\n", rt.Name)
	if e := oneLine(rt.Policy.Explanation); e != "" {
		fmt.Fprintf(w, "why: %s\n", e)
	}
	if m := oneLine(rt.Policy.Remediation); m != "" {
		fmt.Fprintf(w, "what to do: %s\n", m)
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
