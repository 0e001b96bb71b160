package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/porthole-dev/porthole/server/config"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/server/routing"
	"github.com/porthole-dev/porthole/server/session"
)

type claimsKey struct{}

// serveRoute enforces rt's policy and proxies r upstream (or redirects).
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt *routing.Route) {
	r, ok := s.checkClientCert(w, r, rt)
	if !ok {
		return
	}
	var a auth
	if rt.CORSAllowPreflight && isCORSPreflight(r) {
		// The CORS spec sends preflights without credentials.
	} else {
		var ok bool
		a, ok = s.authorize(w, r, rt, func() {
			if wantsJSON(r) {
				writeJSONError(w, http.StatusUnauthorized, "Unauthenticated")
				return
			}
			redirectToSignIn(w, r)
		}, false)
		if !ok {
			return
		}
	}
	if rt.Redirect != nil {
		serveRedirect(w, r, rt)
		return
	}
	if up := upgradeProtocol(r); up != "" {
		switch {
		case up == "websocket" && !rt.AllowWebsockets:
			s.errorPage(w, rt, http.StatusForbidden, "websockets are not allowed on "+rt.Name, "set allow_websockets: true on the route")
			return
		case strings.HasPrefix(up, "spdy/") && !rt.AllowSPDY:
			s.errorPage(w, rt, http.StatusForbidden, "SPDY upgrades are not allowed on "+rt.Name, "set allow_spdy: true on the route")
			return
		case up != "websocket" && !strings.HasPrefix(up, "spdy/"):
			s.errorPage(w, rt, http.StatusForbidden, "upgrade to "+up+" is not allowed", "")
			return
		}
	}
	if len(rt.Pool.Upstreams()) == 0 {
		s.errorPage(w, rt, http.StatusBadGateway, "route "+rt.Name+" has no upstream", "")
		return
	}
	var assertion string
	if rt.PassIdentityHeaders || wantsJWT(rt) {
		var err error
		assertion, err = s.keys.Assertion("https://"+r.Host, hostOnly(r.Host), a.session, assertionTTL)
		if err != nil {
			logErr(s.log, "proxy: signing assertion", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	if isUpgrade(r) {
		streamDeadlines(w)
	} else {
		// A second of grace: the route's timeout answers 504 itself, which
		// a connection deadline at the same instant would cut off.
		to := rt.EffectiveTimeout()
		if to > 0 {
			to += time.Second
		}
		defer s.routeDeadlines(w, to)()
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	upgrade := isUpgrade(r)
	// A websocket's lifetime is bounded only by an explicit timeout, as
	// in Pomerium (the default would cut every socket at 30s).
	if to, set := rt.ExplicitTimeout(); upgrade && set && to > 0 {
		ctx, cancel = context.WithTimeout(ctx, to)
		defer cancel()
	} else if to := rt.EffectiveTimeout(); !upgrade && to > 0 {
		ctx, cancel = context.WithTimeout(ctx, to)
		defer cancel()
	}
	idle := newActivity(rt.EffectiveIdleTimeout(), func() { cancel() })
	defer idle.stop()
	r = r.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &activeBody{ReadCloser: r.Body, act: idle}
	}
	ft := &failoverTransport{pool: rt.Pool, hashKey: sourceIP(r, rt.XFFNumTrustedHops), act: idle, upgrade: upgrade, log: s.log}
	rp := &httputil.ReverseProxy{
		Transport:     ft,
		FlushInterval: -1,
		Rewrite: func(pr *httputil.ProxyRequest) {
			stripCredentials(pr.Out.Header, pr.Out.URL)
			ft.plan, ft.query = planPath(rt, pr.In), pr.Out.URL.RawQuery
			if rt.SkipXFFAppend {
				pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
				pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
				pr.Out.Header.Set("X-Forwarded-Proto", "https")
			} else {
				pr.SetXForwarded()
			}
			pr.Out.Host = outboundHost(rt, pr.In)
			applyRequestHeaders(rt, pr.Out.Header, a.session, assertion, r)
		},
		ModifyResponse: func(resp *http.Response) error {
			applyResponseHeaders(rt, resp.Header)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status, what := http.StatusBadGateway, "upstream of "+rt.Name+" is unreachable"
			if errors.Is(err, context.DeadlineExceeded) || idle.fired() {
				status, what = http.StatusGatewayTimeout, "upstream of "+rt.Name+" did not answer in time"
			}
			if r.Context().Err() != nil && !errors.Is(r.Context().Err(), context.DeadlineExceeded) && !idle.fired() {
				return // the client went away
			}
			logErr(s.log, "proxy: upstream", err, "route", rt.Name, "status", status)
			s.errorPage(w, rt, status, what, err.Error())
		},
	}
	rp.ServeHTTP(&activeWriter{ResponseWriter: w, act: idle}, r)
}

// wantsJWT reports whether a set_request_headers value needs the signed
// assertion.
func wantsJWT(rt *routing.Route) bool {
	for _, v := range rt.SetRequestHeaders {
		if strings.Contains(v, "${pomerium.jwt}") {
			return true
		}
	}
	return false
}

// errorPage writes an error with details only when the route's
// show_error_details allows (default true, as Pomerium).
func (s *Server) errorPage(w http.ResponseWriter, rt *routing.Route, status int, msg, details string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s: %s\n", status, http.StatusText(status), msg)
	if details != "" && (rt == nil || rt.ShowErrors()) {
		fmt.Fprintf(w, "details: %s\n", strings.ReplaceAll(details, "\n", " "))
	}
}

func setIdentityHeaders(h http.Header, c *session.Claims, extra []config.ClaimHeader) {
	// A client's own copy of a claim header (in any spelling a CGI
	// upstream would read as it) never passes, even when the claim is
	// missing and the proxy sets nothing.
	for _, e := range extra {
		delHeaderSpellings(h, e.Header)
	}
	if c == nil {
		return
	}
	h.Set("X-Pomerium-Claim-Email", c.Email)
	h.Set("X-Pomerium-Claim-Sub", c.Subject)
	if len(c.Groups) > 0 {
		h.Set("X-Pomerium-Claim-Groups", strings.Join(c.Groups, ","))
	}
	// jwt_claims_headers: any other ID token claim, lists comma-joined.
	for _, e := range extra {
		var v string
		switch t := c.Claims[e.Claim].(type) {
		case nil:
			continue
		case []any:
			parts := make([]string, 0, len(t))
			for _, e := range t {
				parts = append(parts, fmt.Sprint(e))
			}
			v = strings.Join(parts, ",")
		default:
			v = fmt.Sprint(t)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			continue
		}
		h.Set(e.Header, v)
	}
}

// delHeaderSpellings removes name and every header that reads as name
// once underscores are taken for dashes, in any case.
func delHeaderSpellings(h http.Header, name string) {
	want := headerAsRead(name)
	for k := range h {
		if headerAsRead(k) == want {
			h.Del(k)
		}
	}
}

// sourceIP is the client's address: the connection's, or with
// xff_num_trusted_hops N the Nth address from the right of
// X-Forwarded-For (that many proxies in front are trusted).
func sourceIP(r *http.Request, hops int) string {
	if hops > 0 {
		var all []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					all = append(all, p)
				}
			}
		}
		if len(all) >= hops {
			if ip := net.ParseIP(all[len(all)-hops]); ip != nil {
				return ip.String()
			}
		}
	}
	return clientIP(r)
}

func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// upgradeProtocol is the lower-cased protocol of an upgrade request, ""
// for a plain request.
func upgradeProtocol(r *http.Request) string {
	if !isUpgrade(r) {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(r.Header.Get("Upgrade")))
}

// isCORSPreflight is the CORS spec's preflight: OPTIONS with Origin and
// Access-Control-Request-Method.
func isCORSPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// clientIP is the connecting address's IP (never X-Forwarded-For, which
// the client controls).
func clientIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
