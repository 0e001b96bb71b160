package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

func specToRecord(s *RouteSpec, rec *store.Route) {
	rec.NamespaceID, rec.Name, rec.Description, rec.LogoURL = s.NamespaceID, s.Name, s.Description, s.LogoURL
	rec.From, rec.To = s.From, s.To
	rec.Response, rec.Redirect, rec.RewriteResponseHeaders, rec.HealthCheck = s.Response, s.Redirect, s.RewriteResponseHeaders, s.HealthCheck
	rec.Prefix, rec.Path, rec.Regex, rec.PrefixRewrite = s.Prefix, s.Path, s.Regex, s.PrefixRewrite
	rec.RegexRewritePattern, rec.RegexRewriteSubstitution = s.RegexRewritePattern, s.RegexRewriteSubstitution
	rec.HostRewrite, rec.HostRewriteHeader = s.HostRewrite, s.HostRewriteHeader
	rec.HostPathRegexRewritePattern, rec.HostPathRegexRewriteSubstitution = s.HostPathRegexRewritePattern, s.HostPathRegexRewriteSubstitution
	rec.RegexPriorityOrder, rec.Timeout, rec.IdleTimeout = s.RegexPriorityOrder, s.Timeout, s.IdleTimeout
	rec.AllowWebsockets, rec.AllowSPDY, rec.TLSSkipVerify = s.AllowWebsockets, s.AllowSpdy, s.TLSSkipVerify
	rec.TLSUpstreamServerName, rec.TLSDownstreamServerName = s.TLSUpstreamServerName, s.TLSDownstreamServerName
	rec.TLSCustomCAKeyPairID, rec.TLSClientKeyPairID, rec.TLSDownstreamClientCAKeyPairID = s.TLSCustomCaKeyPairID, s.TLSClientKeyPairID, s.TLSDownstreamClientCaKeyPairID
	rec.TLSUpstreamAllowRenegotiation = s.TLSUpstreamAllowRenegotiation
	rec.SetRequestHeaders, rec.SetResponseHeaders, rec.RemoveRequestHeaders = s.SetRequestHeaders, s.SetResponseHeaders, s.RemoveRequestHeaders
	rec.PreserveHostHeader, rec.PassIdentityHeaders = s.PreserveHostHeader, s.PassIdentityHeaders
	rec.KubernetesServiceAccountToken = s.KubernetesServiceAccountToken
	rec.EnableGoogleCloudServerlessAuthentication, rec.ShowErrorDetails = s.EnableGoogleCloudServerlessAuth, s.ShowErrorDetails
	rec.JWTIssuerFormat, rec.LoadBalancingPolicy = s.JWTIssuerFormat, s.LoadBalancingPolicy
	rec.IdentityProviderClientID, rec.IdentityProviderClientSecret = s.IdentityProviderClientID, s.IdentityProviderClientSecret
	rec.PolicyIDs = s.PolicyIDs
}

func recordToSpec(rec *store.Route) RouteSpec {
	s := RouteSpec{
		NamespaceID: rec.NamespaceID, Name: rec.Name, Description: rec.Description, LogoURL: rec.LogoURL,
		From: rec.From, To: rec.To, Response: rec.Response, Redirect: rec.Redirect,
		RewriteResponseHeaders: rec.RewriteResponseHeaders, HealthCheck: rec.HealthCheck,
		Prefix: rec.Prefix, Path: rec.Path, Regex: rec.Regex, PrefixRewrite: rec.PrefixRewrite,
		RegexRewritePattern: rec.RegexRewritePattern, RegexRewriteSubstitution: rec.RegexRewriteSubstitution,
		HostRewrite: rec.HostRewrite, HostRewriteHeader: rec.HostRewriteHeader,
		HostPathRegexRewritePattern: rec.HostPathRegexRewritePattern, HostPathRegexRewriteSubstitution: rec.HostPathRegexRewriteSubstitution,
		RegexPriorityOrder: rec.RegexPriorityOrder, Timeout: rec.Timeout, IdleTimeout: rec.IdleTimeout,
		AllowWebsockets: rec.AllowWebsockets, AllowSpdy: rec.AllowSPDY, TLSSkipVerify: rec.TLSSkipVerify,
		TLSUpstreamServerName: rec.TLSUpstreamServerName, TLSDownstreamServerName: rec.TLSDownstreamServerName,
		TLSCustomCaKeyPairID: rec.TLSCustomCAKeyPairID, TLSClientKeyPairID: rec.TLSClientKeyPairID,
		TLSDownstreamClientCaKeyPairID: rec.TLSDownstreamClientCAKeyPairID, TLSUpstreamAllowRenegotiation: rec.TLSUpstreamAllowRenegotiation,
		SetRequestHeaders: rec.SetRequestHeaders, SetResponseHeaders: rec.SetResponseHeaders, RemoveRequestHeaders: rec.RemoveRequestHeaders,
		PreserveHostHeader: rec.PreserveHostHeader, PassIdentityHeaders: rec.PassIdentityHeaders,
		KubernetesServiceAccountToken: rec.KubernetesServiceAccountToken, EnableGoogleCloudServerlessAuth: rec.EnableGoogleCloudServerlessAuthentication,
		ShowErrorDetails: rec.ShowErrorDetails, JWTIssuerFormat: rec.JWTIssuerFormat, LoadBalancingPolicy: rec.LoadBalancingPolicy,
		IdentityProviderClientID: rec.IdentityProviderClientID, IdentityProviderClientSecret: rec.IdentityProviderClientSecret,
		PolicyIDs: rec.PolicyIDs,
	}
	if s.NamespaceID == "" {
		s.NamespaceID = NamespaceID
	}
	if s.PolicyIDs == nil {
		s.PolicyIDs = []string{}
	}
	fillEmpty(&s)
	return s
}

// fillEmpty gives unset lists and maps their empty JSON form.
func fillEmpty(s *RouteSpec) {
	for _, l := range []*[]string{&s.To, &s.RemoveRequestHeaders, &s.PolicyIDs} {
		if *l == nil {
			*l = []string{}
		}
	}
	if len(s.RewriteResponseHeaders) == 0 {
		s.RewriteResponseHeaders = json.RawMessage("[]")
	}
	for _, m := range []*map[string]string{&s.SetRequestHeaders, &s.SetResponseHeaders} {
		if *m == nil {
			*m = map[string]string{}
		}
	}
}

func routeJSON(rec *store.Route, deps routeDeps) Route {
	out := Route{ID: rec.ID, CreatedAt: formatTime(rec.CreatedAt), UpdatedAt: formatTime(rec.UpdatedAt),
		RouteSpec: recordToSpec(rec), EnforcedPolicies: []PolicyRef{}, EnforcedPolicyIDs: []string{}, Policies: []PolicyRef{}}
	// Secrets go in, never out.
	out.IdentityProviderClientSecret, out.KubernetesServiceAccountToken = redact(out.IdentityProviderClientSecret), redact(out.KubernetesServiceAccountToken)
	for _, id := range rec.PolicyIDs {
		name := ""
		if p := deps.policies[id]; p != nil {
			name = p.Name
		}
		out.Policies = append(out.Policies, PolicyRef{ID: id, Name: name})
	}
	for _, p := range deps.sortedPolicies() {
		if p.Enforced {
			out.EnforcedPolicies = append(out.EnforcedPolicies, PolicyRef{ID: p.ID, Name: p.Name})
			out.EnforcedPolicyIDs = append(out.EnforcedPolicyIDs, p.ID)
		}
	}
	return out
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "(set; not shown)"
}

// configRouteID is a stable id for a route of the YAML config, the same
// on every replica and across restarts.
func configRouteID(rt *config.Route) string {
	h := sha256.Sum256([]byte(rt.From + "\x00" + rt.Prefix + "\x00" + rt.Path))
	return "config-" + hex.EncodeToString(h[:8])
}

// configRouteJSON shows a YAML route, read-only.
func (a *API) configRouteJSON(rt *config.Route) Route {
	s := RouteSpec{NamespaceID: NamespaceID, Name: rt.Name, Description: rt.Description, LogoURL: rt.LogoURL, From: rt.From,
		Prefix: rt.Prefix, Path: rt.Path, AllowWebsockets: rt.AllowWebsockets, PassIdentityHeaders: rt.PassIdentityHeaders,
		PolicyIDs: []string{}}
	for _, u := range rt.To {
		if u.URL != nil {
			s.To = append(s.To, u.URL.String())
		}
	}
	if rt.Timeout > 0 {
		s.Timeout = rt.Timeout.String()
	}
	if rt.IdleTimeout > 0 {
		s.IdleTimeout = rt.IdleTimeout.String()
	}
	fillEmpty(&s)
	started := formatTime(a.started)
	return Route{ID: configRouteID(rt), CreatedAt: started, UpdatedAt: started, RouteSpec: s, ReadOnly: true,
		EnforcedPolicies: []PolicyRef{}, EnforcedPolicyIDs: []string{}, Policies: []PolicyRef{}}
}

func (a *API) configRoutes() []config.Route {
	if a.opts.ConfigRoutes == nil {
		return nil
	}
	return a.opts.ConfigRoutes()
}

func (a *API) findConfigRoute(id string) *config.Route {
	if !strings.HasPrefix(id, "config-") {
		return nil
	}
	for _, rt := range a.configRoutes() {
		if configRouteID(&rt) == id {
			return &rt
		}
	}
	return nil
}

func (a *API) listRoutes(w http.ResponseWriter, r *http.Request) error {
	out := []Route{}
	if !namespaceFilter(r) {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	ctx := r.Context()
	deps, err := loadDeps(ctx, a.st)
	if err != nil {
		return err
	}
	routes, err := store.Routes.List(ctx, a.st, store.Query{})
	if err != nil {
		return err
	}
	for _, rt := range a.configRoutes() {
		out = append(out, a.configRouteJSON(&rt))
	}
	for _, rec := range routes {
		out = append(out, routeJSON(rec, deps))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getRoute(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("routeId")
	if rt := a.findConfigRoute(id); rt != nil {
		writeJSON(w, http.StatusOK, a.configRouteJSON(rt))
		return nil
	}
	rec, err := store.Routes.Get(ctx, a.st, id)
	if err != nil {
		return notFoundOr(err, "route", id)
	}
	deps, err := loadDeps(ctx, a.st)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, routeJSON(rec, deps))
	return nil
}

func (a *API) createRoute(w http.ResponseWriter, r *http.Request) error {
	return a.putRoute(w, r, "")
}

func (a *API) updateRoute(w http.ResponseWriter, r *http.Request) error {
	return a.putRoute(w, r, r.PathValue("routeId"))
}

func errReadOnly(id string) error {
	return errorf(http.StatusForbidden, "route %q comes from the config file; change it there", id)
}

// putRoute creates (id "") or replaces a route in one transaction that
// also checks it compiles and does not clash with any other route.
func (a *API) putRoute(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	if a.findConfigRoute(id) != nil {
		return errReadOnly(id)
	}
	var spec RouteSpec
	if err := decodeBody(r, &spec); err != nil {
		return err
	}
	if err := checkNamespace("namespaceId", spec.NamespaceID); err != nil {
		return err
	}
	spec.NamespaceID = NamespaceID
	if err := checkName("name", spec.Name); err != nil {
		return err
	}
	if spec.From == "" {
		return fieldError("from", "required: the external URL, e.g. https://app.example.com or tcp+https://%s/db.internal:5432", a.opts.Address)
	}
	if spec.PolicyIDs == nil {
		spec.PolicyIDs = []string{}
	}
	for i, pid := range spec.PolicyIDs {
		if slices.Contains(spec.PolicyIDs[:i], pid) {
			return fieldError("policyIds", "%q is listed twice", pid)
		}
	}
	var out Route
	err := a.change(ctx, func(c *changeTx) error {
		rec := &store.Route{Meta: store.Meta{ID: store.NewID()}}
		activity := "create"
		if id != "" {
			old, err := store.Routes.Get(ctx, c.tx, id)
			if err != nil {
				return notFoundOr(err, "route", id)
			}
			rec, activity = old, "update"
		}
		specToRecord(&spec, rec)
		write := store.Routes.Put
		if activity == "create" {
			write = store.Routes.Create
		}
		if err := write(ctx, c.tx, rec); err != nil {
			return err
		}
		if _, err := a.checkRoutes(c, rec.ID); err != nil {
			return err
		}
		deps, err := loadDeps(ctx, c.tx)
		if err != nil {
			return err
		}
		out = routeJSON(rec, deps)
		return c.log(activity, "route", rec.ID, rec.Name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, map[bool]int{true: http.StatusCreated, false: http.StatusOK}[id == ""], out)
	return nil
}

func (a *API) deleteRoute(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("routeId")
	if a.findConfigRoute(id) != nil {
		return errReadOnly(id)
	}
	err := a.change(ctx, func(c *changeTx) error {
		rec, err := store.Routes.Get(ctx, c.tx, id)
		if err != nil {
			return notFoundOr(err, "route", id)
		}
		if err := store.Routes.Delete(ctx, c.tx, id); err != nil {
			return err
		}
		return c.log("delete", "route", id, rec.Name)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getRouteCertificates lists the key pairs whose certificate covers the
// route's host.
func (a *API) getRouteCertificates(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("routeId")
	var from string
	if rt := a.findConfigRoute(id); rt != nil {
		from = rt.From
	} else {
		rec, err := store.Routes.Get(ctx, a.st, id)
		if err != nil {
			return notFoundOr(err, "route", id)
		}
		from = rec.From
	}
	kps, err := a.allKeyPairs(ctx)
	if err != nil {
		return err
	}
	out := []KeyPair{}
	for _, kp := range kps {
		if kp.covers(from) {
			out = append(out, kp.KeyPair)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
