// Package api is pomerium-server's management API, shaped like the
// Pomerium Zero API (/api/v0/...): API users exchange their token for a
// short-lived ID token, then read and change routes, policies, key pairs
// and settings. Every change is one store transaction with its activity
// log entries, and applies on every replica through the store's change
// feed (there is no separate apply step). Only admins may call it.
//
// The server mounts it on its own address:
//
//	a, err := api.New(api.Options{Store: st, TokenKey: keys.Derive("api id token"), ...})
//	mux.Handle("/api/v0/", a)
//	routes, err := api.CompileRoutes(ctx, st) // the API's routes, for the route table
//
// Handlers live one file per resource; errors become a status and a
// {"message"} body in one place (errors.go).
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

// Identity is a signed-in user as the server's session check sees them.
type Identity struct {
	User   string // the IdP subject
	Email  string
	Groups []string
}

// Options configure the API.
type Options struct {
	Store store.Store
	// TokenKey signs the ID tokens handed out by POST /token (32 bytes;
	// replicas must share it, e.g. derived from shared_secret).
	TokenKey []byte
	// Authenticate returns the signed-in user of a request as the server
	// checks sessions (nil: none), so that an admin can call the API with
	// a Pomerium token in a header. The API strips cookies and the query
	// first. Nil: API users only.
	Authenticate func(r *http.Request) *Identity
	// Admins are the users (email or IdP subject) and groups allowed in
	// with a session (config api_admins; --dev: dev@example.com).
	Admins []string
	// Address is the server's public host:port (the cluster's fqdn).
	Address string
	// ConfigRoutes returns the routes of the YAML config, shown read-only.
	ConfigRoutes func() []config.Route
	// Certificates returns the certificates the server serves, shown as
	// read-only key pairs.
	Certificates func() []tls.Certificate
	// BaseSettings are the settings of the config file, as the API shows
	// them; changes made through the API are laid over them.
	BaseSettings Settings
	// OnChange is called after every committed change, before the
	// response is written (the server reloads its route table; other
	// replicas learn of it from the store's change feed).
	OnChange func(ctx context.Context)
	Logger   *slog.Logger
	Now      func() time.Time // nil: time.Now
}

// Replica is one server process of the cluster (a store.Replica record,
// written by each server's heartbeat).
type Replica struct {
	ID        string    `json:"id"`
	Hostname  string    `json:"hostname"`
	Address   string    `json:"address"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"startedAt"`
	LastSeen  time.Time `json:"lastSeen"`
	Healthy   bool      `json:"healthy"`
}

// API is the /api/v0/ handler.
type API struct {
	opts Options
	st   store.Store
	log  *slog.Logger
	mux  *http.ServeMux
	now  func() time.Time
	// started stands in for the creation time of what has none stored:
	// YAML routes, settings never changed.
	started time.Time
	// admins is Options.Admins as last set (SetAdmins: a config reload).
	admins atomic.Pointer[[]string]
}

// SetAdmins replaces the admins (api_admins changed in a reloaded
// config); requests from then on are judged by the new list.
func (a *API) SetAdmins(admins []string) {
	l := slices.Clone(admins)
	a.admins.Store(&l)
}

// The single organization, cluster and namespace of a server. Fixed ids
// keep replicas in agreement without a start-up race over who creates
// them.
const (
	OrganizationID = "default"
	ClusterID      = "default"
	NamespaceID    = "default"
)

// New builds the API. It makes sure the namespace record exists.
func New(ctx context.Context, opts Options) (*API, error) {
	if opts.Store == nil {
		return nil, errors.New("api: no store")
	}
	if len(opts.TokenKey) < 32 {
		return nil, errors.New("api: token key must be at least 32 bytes")
	}
	a := &API{opts: opts, st: opts.Store, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.started = a.now()
	a.SetAdmins(opts.Admins)
	if err := ensureNamespace(ctx, a.st); err != nil {
		return nil, err
	}
	a.routes()
	return a, nil
}

func ensureNamespace(ctx context.Context, st store.Store) error {
	err := st.Update(ctx, func(tx store.Tx) error {
		if _, err := store.Namespaces.Get(ctx, tx, NamespaceID); err == nil || !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return store.Namespaces.Create(ctx, tx, &store.Namespace{Meta: store.Meta{ID: NamespaceID}, Name: "default"})
	})
	if errors.Is(err, store.ErrAlreadyExists) { // another replica made it first
		err = nil
	}
	if err != nil {
		return fmt.Errorf("creating the API's namespace: %w", err)
	}
	return nil
}

// handlerFunc is a handler that returns its error to writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) routes() {
	m := http.NewServeMux()
	open := func(pattern string, h handlerFunc) { m.Handle(pattern, a.wrap(h, false)) }
	admin := func(pattern string, h handlerFunc) { m.Handle(pattern, a.wrap(h, true)) }
	const org = "/api/v0/organizations/{organizationId}"

	open("POST /api/v0/token", a.getIDToken)

	admin("GET /api/v0/organizations", a.listOrganizations)
	admin("GET "+org, a.getOrganization)

	admin("GET "+org+"/users", a.listUsers)
	admin("POST "+org+"/apiUsers", a.createAPIUser)
	admin("POST "+org+"/users/{userId}/renew", a.renewAPIUser)
	admin("DELETE "+org+"/users/{userId}", a.removeUser)

	admin("GET "+org+"/clusters", a.listClusters)
	admin("POST "+org+"/clusters", a.createCluster)
	admin("GET "+org+"/clusters/{clusterId}", a.getCluster)
	admin("PUT "+org+"/clusters/{clusterId}", a.updateCluster)
	admin("DELETE "+org+"/clusters/{clusterId}", a.deleteCluster)
	admin("GET "+org+"/clusters/{clusterId}/replicas", a.listReplicas)
	admin("GET "+org+"/clusters/{clusterId}/health", a.clusterHealth)
	admin("GET "+org+"/clusters/{clusterId}/settings", a.getSettings)
	admin("PUT "+org+"/clusters/{clusterId}/settings", a.updateSettings)
	admin("PATCH "+org+"/clusters/{clusterId}/settings", a.patchSettings)

	admin("GET "+org+"/namespaces", a.listNamespaces)

	admin("GET "+org+"/policies", a.listPolicies)
	admin("POST "+org+"/policies", a.createPolicy)
	admin("GET "+org+"/policies/{policyId}", a.getPolicy)
	admin("PUT "+org+"/policies/{policyId}", a.updatePolicy)
	admin("DELETE "+org+"/policies/{policyId}", a.deletePolicy)

	admin("GET "+org+"/routes", a.listRoutes)
	admin("POST "+org+"/routes", a.createRoute)
	admin("GET "+org+"/routes/{routeId}", a.getRoute)
	admin("PUT "+org+"/routes/{routeId}", a.updateRoute)
	admin("DELETE "+org+"/routes/{routeId}", a.deleteRoute)
	admin("GET "+org+"/routes/{routeId}/certificates", a.getRouteCertificates)

	admin("GET "+org+"/keyPairs", a.listKeyPairs)
	admin("POST "+org+"/keyPairs", a.createKeyPair)
	admin("GET "+org+"/keyPairs/{keyPairId}", a.getKeyPair)
	admin("PUT "+org+"/keyPairs/{keyPairId}", a.updateKeyPair)
	admin("DELETE "+org+"/keyPairs/{keyPairId}", a.deleteKeyPair)

	admin("GET "+org+"/changesets", a.listChangesets)
	admin("POST "+org+"/changesets/{changesetId}/apply", a.applyChangeset)

	admin("GET "+org+"/activityLogs", a.listActivityLogs)

	a.mux = m
}

// ServeHTTP serves /api/v0/. An unknown path (404) or a method the path
// does not take (405, with Allow) gets a JSON message like every error.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		probe := &headerProbe{h: http.Header{}}
		h.ServeHTTP(probe, r) // the mux's own 405 (or redirect): learn its status and Allow
		switch probe.code {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", probe.h.Get("Allow"))
			a.writeError(w, r, errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.h.Get("Allow")))
			return
		case http.StatusNotFound:
			a.writeError(w, r, errorf(http.StatusNotFound, "no API operation %s %s: this server has the Zero API's token, organizations, users, clusters, namespaces, policies, routes, keyPairs, settings, changesets and activityLogs (not invitations, onboarding or creating organizations: one server is one organization)", r.Method, r.URL.Path))
			return
		}
	}
	a.mux.ServeHTTP(w, r) // (not h: the mux sets the path values)
}

// headerProbe records a handler's status and headers and drops its body.
type headerProbe struct {
	h    http.Header
	code int
}

func (p *headerProbe) Header() http.Header { return p.h }
func (p *headerProbe) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

type principalKey struct{}

// principal is who is calling: an API user or a signed-in admin.
type principal struct {
	UserID string // API user id, or the admin's IdP subject
	Email  string
}

func caller(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// wrap authenticates (when admin), checks the organization in the path
// and turns the handler's error into the response.
func (a *API) wrap(h handlerFunc, admin bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if admin {
			p, err := a.authenticate(r)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		if org := r.PathValue("organizationId"); org != "" && org != OrganizationID {
			a.writeError(w, r, notFound("organization", org))
			return
		}
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// formatTime is the API's time format (RFC 3339, UTC, microseconds as
// in the reference's samples).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// checkName applies the reference's entityName rule: 1 to 128 characters.
func checkName(field, name string) error {
	n := len([]rune(name))
	if strings.TrimSpace(name) == "" || n > 128 {
		return fieldError(field, "required, 1 to 128 characters")
	}
	return nil
}

// checkNamespace accepts the one namespace (or empty: the default).
func checkNamespace(field, id string) error {
	if id != "" && id != NamespaceID {
		return fieldError(field, "no namespace %q (this server has one: %q)", id, NamespaceID)
	}
	return nil
}

// namespaceFilter applies ?namespaceId= to a list (the reference makes it
// required; it is optional here, since there is one namespace).
func namespaceFilter(r *http.Request) (ok bool) {
	ns := r.URL.Query().Get("namespaceId")
	return ns == "" || ns == NamespaceID
}

// isNotFound reports a store miss.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
