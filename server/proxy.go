package server

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

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
		redirectToSignIn(w, r)
	}, false)
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
		assertion, err = s.keys.Assertion("https://"+r.Host, hostOnly(r.Host), a.session, assertionTTL)
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
				setIdentityHeaders(pr.Out.Header, a.session)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logErr(s.log, "proxy: upstream", err, "route", rt.Name)
			http.Error(w, "upstream of "+rt.Name+" is unreachable", http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}

func setIdentityHeaders(h http.Header, c *session.Claims) {
	if c == nil {
		return
	}
	h.Set("X-Pomerium-Claim-Email", c.Email)
	h.Set("X-Pomerium-Claim-Sub", c.Subject)
	if len(c.Groups) > 0 {
		h.Set("X-Pomerium-Claim-Groups", strings.Join(c.Groups, ","))
	}
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
