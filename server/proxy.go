package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/session"
)

// matchHTTPRoute finds the http route for r's host and path. A from URL
// without a port matches that host on any port (the listen port need not
// be 443); with a port it must match exactly.
func (s *Server) matchHTTPRoute(r *http.Request) *config.Route {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.Type != "http" || rt.FromURL == nil {
			continue
		}
		if !strings.EqualFold(rt.FromURL.Hostname(), host) {
			continue
		}
		if p := rt.FromURL.Port(); p != "" && p != port {
			continue
		}
		if rt.Path != "" && r.URL.Path != rt.Path {
			continue
		}
		if rt.Prefix != "" && !strings.HasPrefix(r.URL.Path, rt.Prefix) {
			continue
		}
		return rt
	}
	return nil
}

type claimsKey struct{}

// serveRoute enforces rt's policy and proxies r upstream.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt *config.Route) {
	a, ok := s.authorize(w, r, rt, func() {
		if wantsJSON(r) {
			writeJSONError(w, http.StatusUnauthorized, "Unauthenticated")
			return
		}
		authn.RedirectToSignIn(w, r)
	})
	if !ok {
		return
	}
	if isUpgrade(r) && !rt.AllowWebsockets {
		http.Error(w, "websockets are not allowed on "+rt.Name+" (allow_websockets)", http.StatusForbidden)
		return
	}
	if len(rt.To) == 0 {
		http.Error(w, "route "+rt.Name+" has no upstream", http.StatusBadGateway)
		return
	}
	var assertion string
	if rt.PassIdentityHeaders {
		var err error
		assertion, err = s.keys.Assertion("https://"+r.Host, hostOnly(r.Host), a.Session, assertionTTL)
		if err != nil {
			logErr(s.log, "proxy: signing assertion", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	if to := rt.EffectiveTimeout(); to > 0 && !isUpgrade(r) {
		ctx, cancel := context.WithTimeout(r.Context(), to)
		defer cancel()
		r = r.WithContext(ctx)
	}
	target := pickUpstream(rt)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			stripCredentials(pr.Out.Header, pr.Out.URL)
			pr.SetURL(target)
			pr.SetXForwarded()
			if assertion != "" {
				pr.Out.Header.Set("X-Pomerium-Jwt-Assertion", assertion)
				setIdentityHeaders(pr.Out.Header, a.Session, s.claimHeaders)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logErr(s.log, "proxy: upstream", err, "route", rt.Name)
			http.Error(w, "upstream of "+rt.Name+" is unreachable", http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}

// setIdentityHeaders sets the claim headers: email, sub and groups, and
// those jwt_claims_headers asks for (header -> claim).
func setIdentityHeaders(h http.Header, c *session.Claims, claimHeaders map[string]string) {
	if c == nil {
		return
	}
	h.Set("X-Pomerium-Claim-Email", c.Email)
	h.Set("X-Pomerium-Claim-Sub", c.Subject)
	if len(c.Groups) > 0 {
		h.Set("X-Pomerium-Claim-Groups", strings.Join(c.Groups, ","))
	}
	for header, claim := range claimHeaders {
		if v, ok := claimValue(c, claim); ok {
			h.Set(header, v)
		}
	}
}

// claimValue is a session claim as header text: lists joined with
// commas, control characters dropped (the value came from the IdP).
func claimValue(c *session.Claims, claim string) (string, bool) {
	var v any
	switch claim {
	case "email":
		v = c.Email
	case "sub", "user":
		v = c.Subject
	case "groups":
		v = c.Groups
	default:
		var ok bool
		if v, ok = c.Claims[claim]; !ok {
			return "", false
		}
	}
	var parts []string
	switch x := v.(type) {
	case []string:
		parts = x
	case []any:
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
	default:
		parts = []string{fmt.Sprint(x)}
	}
	out := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.Join(parts, ","))
	return out, true
}

func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
