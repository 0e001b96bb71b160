package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/routing"
	"github.com/porthole-dev/porthole/server/session"
)

// pathPlan is how a request's path becomes the upstream's (all escaped).
type pathPlan struct {
	absolute bool   // regex_rewrite: full is the whole new path
	full     string // the request path, or the regex result
	base     string // prefix_rewrite ("" when unset)
	rest     string // the request path after the matched prefix
}

// planPath applies prefix_rewrite and regex_rewrite_*. Without them, the
// matched prefix ("/" for a route without prefix or path) is replaced by
// the upstream URL's path when it has one: Pomerium's trailing-slash
// rule (to .../anything and /foo give .../anythingfoo; to .../anything/
// gives .../anything/foo).
func planPath(rt *routing.Route, in *http.Request) pathPlan {
	esc := in.URL.EscapedPath()
	if esc == "" {
		esc = "/"
	}
	if rt.RegexRewriteRE != nil {
		return pathPlan{absolute: true, full: rt.RegexRewriteRE.ReplaceAllString(esc, config.EnvoySubst(rt.RegexRewriteSubstitution))}
	}
	matched := "/"
	switch {
	case rt.Prefix != "":
		matched = rt.Prefix
	case rt.Path != "":
		matched = rt.Path
	}
	rest := strings.TrimPrefix(esc, "/")
	if strings.HasPrefix(esc, matched) {
		rest = esc[len(matched):]
	}
	return pathPlan{full: esc, base: rt.PrefixRewrite, rest: rest}
}

// target is the upstream URL for u under plan p, with query appended.
func (p pathPlan) target(u *url.URL, query string) *url.URL {
	out := &url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: joinQuery(u.RawQuery, query)}
	var esc string
	switch {
	case p.absolute:
		esc = p.full
	case p.base != "":
		esc = p.base + p.rest
	case u.Path != "":
		esc = u.EscapedPath() + p.rest
	default:
		esc = p.full
	}
	if !strings.HasPrefix(esc, "/") {
		esc = "/" + esc
	}
	if dec, err := url.PathUnescape(esc); err == nil {
		out.Path, out.RawPath = dec, esc
	} else {
		out.Path = esc
	}
	return out
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

// outboundHost is the Host header for the upstream: "" means the
// upstream URL's host.
func outboundHost(rt *routing.Route, in *http.Request) string {
	switch {
	case rt.PreserveHostHeader:
		return in.Host
	case rt.HostRewrite != "":
		return rt.HostRewrite
	case rt.HostRewriteHeader != "":
		return in.Header.Get(rt.HostRewriteHeader)
	case rt.HostPathRegexRewriteRE != nil:
		p := in.URL.Path
		if rt.HostPathRegexRewriteRE.MatchString(p) {
			h := rt.HostPathRegexRewriteRE.ReplaceAllString(p, config.EnvoySubst(rt.HostPathRegexRewriteSubstitution))
			if h != "" && !strings.ContainsAny(h, "/ \r\n@") {
				return h
			}
		}
	}
	return ""
}

// applyRequestHeaders removes and sets the route's request headers, the
// identity headers and the Kubernetes credentials. Impersonate-* from
// the client never pass: only the proxy may say whom to impersonate.
func applyRequestHeaders(rt *routing.Route, h http.Header, c *session.Claims, assertion string, in *http.Request) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "impersonate-") {
			h.Del(k)
		}
	}
	for _, k := range rt.RemoveRequestHeaders {
		h.Del(k)
	}
	if rt.PassIdentityHeaders {
		h.Set("X-Pomerium-Jwt-Assertion", assertion)
		setIdentityHeaders(h, c, rt.JWTClaimsHeaders)
	}
	for k, v := range rt.SetRequestHeaders {
		h.Set(k, expandPomerium(v, assertion, in))
	}
	if rt.KubernetesToken != "" {
		h.Set("Authorization", "Bearer "+rt.KubernetesToken)
		if c != nil {
			h.Set("Impersonate-User", c.Email)
			for _, g := range c.Groups {
				h.Add("Impersonate-Group", g)
			}
		}
	}
}

// expandPomerium substitutes Pomerium's ${pomerium.*} values. The
// server keeps no IdP tokens, so access_token and id_token expand to ""
// (documented in the README).
func expandPomerium(v, assertion string, in *http.Request) string {
	if !strings.Contains(v, "${pomerium.") {
		return v
	}
	fp := ""
	if in.TLS != nil && len(in.TLS.PeerCertificates) > 0 {
		sum := sha256.Sum256(in.TLS.PeerCertificates[0].Raw)
		fp = hex.EncodeToString(sum[:])
	}
	return strings.NewReplacer(
		"${pomerium.jwt}", assertion,
		"${pomerium.access_token}", "",
		"${pomerium.id_token}", "",
		"${pomerium.client_cert_fingerprint}", fp,
	).Replace(v)
}

func applyResponseHeaders(rt *routing.Route, h http.Header) {
	for k, v := range rt.SetResponseHeaders {
		h.Set(k, v)
	}
	for _, rw := range rt.RewriteResponseHeaders {
		vals := h.Values(rw.Header)
		for i, v := range vals {
			if strings.HasPrefix(v, rw.Prefix) {
				vals[i] = rw.Value + v[len(rw.Prefix):]
			}
		}
	}
}

// serveRedirect answers a redirect route.
func serveRedirect(w http.ResponseWriter, r *http.Request, rt *routing.Route) {
	rd := rt.Redirect
	u := &url.URL{Scheme: "https", Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	switch {
	case rd.HTTPSRedirect:
		u.Scheme = "https"
	case rd.SchemeRedirect != "":
		u.Scheme = rd.SchemeRedirect
	}
	if rd.HostRedirect != "" {
		host = rd.HostRedirect
	}
	if rd.PortRedirect > 0 {
		port = strconv.Itoa(rd.PortRedirect)
	}
	u.Host = host
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	}
	switch {
	case rd.PathRedirect != "":
		u.Path = rd.PathRedirect
	case rd.PrefixRewrite != "":
		matched := rt.Prefix
		if matched == "" {
			matched = rt.Path
		}
		if matched == "" {
			matched = "/"
		}
		u.Path = rd.PrefixRewrite + strings.TrimPrefix(r.URL.Path, matched)
	}
	if rd.StripQuery {
		u.RawQuery = ""
	}
	code := rd.ResponseCode
	if code == 0 {
		code = http.StatusMovedPermanently
	}
	w.Header().Set("Location", u.String())
	w.WriteHeader(code)
}

// verifiedCertKey holds the client certificate checkClientCert verified.
type verifiedCertKey struct{}

// checkClientCert applies the route's client CA (tls_downstream_client_ca
// or downstream_mtls): a certificate that chains to it (within
// max_verify_depth) is kept in the returned request's context for the
// client_certificate criterion. Without one, policy_with_default_deny
// answers 495 as Pomerium does; policy lets the policy decide.
func (s *Server) checkClientCert(w http.ResponseWriter, r *http.Request, rt *routing.Route) (*http.Request, bool) {
	if rt.DownstreamClientCAs == nil {
		return r, true
	}
	cert, err := verifyClientCert(r, rt)
	if err == nil {
		return r.WithContext(context.WithValue(r.Context(), verifiedCertKey{}, cert)), true
	}
	if rt.ClientCertEnforcement == "policy" {
		return r, true
	}
	s.errorPage(w, rt, 495, "this route requires a valid client certificate", err.Error())
	return r, false
}

func verifyClientCert(r *http.Request, rt *routing.Route) (*x509.Certificate, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, errors.New("no client certificate was presented")
	}
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	leaf := r.TLS.PeerCertificates[0]
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: rt.DownstreamClientCAs, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	if d := rt.ClientCertMaxDepth; d > 0 {
		for _, ch := range chains {
			if len(ch)-1 <= d {
				return leaf, nil
			}
		}
		return nil, fmt.Errorf("the certificate chain is deeper than max_verify_depth %d", d)
	}
	return leaf, nil
}

func verifiedCert(r *http.Request) *x509.Certificate {
	c, _ := r.Context().Value(verifiedCertKey{}).(*x509.Certificate)
	return c
}
