package store

import (
	"encoding/json"
	"time"
)

// Meta is what every record carries. The store fills it in: ID when empty
// (NewID), CreatedAt on the first write, UpdatedAt and Version on every
// write. A Put with a non-zero Version fails with ErrConflict unless the
// stored record still has that version (read, modify, write safely).
type Meta struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   uint64    `json:"version,string"`
}

// Metadata returns m; every record has it through the embedded Meta.
func (m *Meta) Metadata() *Meta { return m }

// Session is a signed-in user (or service account) at this server.
type Session struct {
	Meta
	UserID string   `json:"userId"` // the IdP subject
	Email  string   `json:"email,omitempty"`
	Name   string   `json:"name,omitempty"`
	Groups []string `json:"groups,omitempty"`
	// Claims are the ID token's claims as the IdP sent them (JSON values:
	// string, float64, bool, []any, map[string]any), for PPL claim/...
	Claims map[string]any `json:"claims,omitempty"`
	// IdP tokens, encrypted at rest.
	IDToken      string    `json:"idToken,omitempty"`
	AccessToken  string    `json:"accessToken,omitempty"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	TokenExpiry  time.Time `json:"tokenExpiry,omitzero"` // the access token's
	// ServiceAccountID is set for sessions a service account started.
	ServiceAccountID string    `json:"serviceAccountId,omitempty"`
	IssuedAt         time.Time `json:"issuedAt,omitzero"`
	RefreshedAt      time.Time `json:"refreshedAt,omitzero"`
	ExpiresAt        time.Time `json:"expiresAt,omitzero"`
}

func (*Session) kind() Kind { return KindSession }
func (s *Session) index() row {
	return row{user: s.UserID, entity: s.ServiceAccountID, expires: unixNano(s.ExpiresAt)}
}
func (s *Session) secrets() []*string { return []*string{&s.IDToken, &s.AccessToken, &s.RefreshToken} }

// Revocation marks a session (or any token) ID as no longer valid, until
// ExpiresAt, when the token would have expired anyway and Cleanup drops it.
type Revocation struct {
	Meta                // ID: the revoked session or token ID
	UserID    string    `json:"userId,omitempty"`
	Reason    string    `json:"reason,omitempty"` // e.g. "sign_out"
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

func (*Revocation) kind() Kind { return KindRevocation }
func (r *Revocation) index() row {
	return row{user: r.UserID, expires: unixNano(r.ExpiresAt)}
}
func (*Revocation) secrets() []*string { return nil }

// APIUser is a Zero-API user: it exchanges its secret (the "API user
// token", shown once) for short-lived ID tokens. Only a hash of the secret
// is kept (HashSecret / CheckSecret).
type APIUser struct {
	Meta
	NamespaceID string `json:"namespaceId,omitempty"`
	Name        string `json:"name"`
	Email       string `json:"email,omitempty"`
	Role        string `json:"role,omitempty"` // owner, admin, auditor, ...
	SecretHash  string `json:"secretHash"`
	// RefreshToken is any refresh token issued to this user, encrypted.
	RefreshToken string    `json:"refreshToken,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt,omitzero"`
}

func (*APIUser) kind() Kind { return KindAPIUser }
func (u *APIUser) index() row {
	return row{namespace: u.NamespaceID, user: u.Email, expires: unixNano(u.ExpiresAt)}
}
func (u *APIUser) secrets() []*string { return []*string{&u.RefreshToken} }

// ServiceAccount acts as UserID (for a namespaced account Pomerium's
// "{id}@{namespace}.pomerium") with a bearer token; only its hash is kept.
type ServiceAccount struct {
	Meta
	NamespaceID string    `json:"namespaceId,omitempty"`
	UserID      string    `json:"userId"`
	Description string    `json:"description,omitempty"`
	SecretHash  string    `json:"secretHash"`
	ExpiresAt   time.Time `json:"expiresAt,omitzero"` // zero: never
	AccessedAt  time.Time `json:"accessedAt,omitzero"`
}

func (*ServiceAccount) kind() Kind { return KindServiceAccount }
func (a *ServiceAccount) index() row {
	return row{namespace: a.NamespaceID, user: a.UserID, expires: unixNano(a.ExpiresAt)}
}
func (*ServiceAccount) secrets() []*string { return nil }

// Route is a route managed through the API (the Zero API's fields; YAML
// routes stay in the config file). Durations are Go/Pomerium duration
// strings ("30s").
type Route struct {
	Meta
	NamespaceID                      string   `json:"namespaceId,omitempty"`
	Name                             string   `json:"name"`
	Description                      string   `json:"description,omitempty"`
	LogoURL                          string   `json:"logoUrl,omitempty"`
	From                             string   `json:"from"`
	To                               []string `json:"to,omitempty"`
	Prefix                           string   `json:"prefix,omitempty"`
	Path                             string   `json:"path,omitempty"`
	Regex                            string   `json:"regex,omitempty"`
	PrefixRewrite                    string   `json:"prefixRewrite,omitempty"`
	RegexRewritePattern              string   `json:"regexRewritePattern,omitempty"`
	RegexRewriteSubstitution         string   `json:"regexRewriteSubstitution,omitempty"`
	HostRewrite                      string   `json:"hostRewrite,omitempty"`
	HostRewriteHeader                string   `json:"hostRewriteHeader,omitempty"`
	HostPathRegexRewritePattern      string   `json:"hostPathRegexRewritePattern,omitempty"`
	HostPathRegexRewriteSubstitution string   `json:"hostPathRegexRewriteSubstitution,omitempty"`
	// Response, Redirect, RewriteResponseHeaders and HealthCheck are the
	// API's JSON objects as written (the route parser checks them).
	Response                                  json.RawMessage   `json:"response,omitempty"`
	Redirect                                  json.RawMessage   `json:"redirect,omitempty"`
	RewriteResponseHeaders                    json.RawMessage   `json:"rewriteResponseHeaders,omitempty"`
	HealthCheck                               json.RawMessage   `json:"healthCheck,omitempty"`
	EnableGoogleCloudServerlessAuthentication bool              `json:"enableGoogleCloudServerlessAuthentication,omitempty"`
	RegexPriorityOrder                        int64             `json:"regexPriorityOrder,omitempty"`
	Timeout                                   string            `json:"timeout,omitempty"`
	IdleTimeout                               string            `json:"idleTimeout,omitempty"`
	AllowWebsockets                           bool              `json:"allowWebsockets,omitempty"`
	AllowSPDY                                 bool              `json:"allowSpdy,omitempty"`
	TLSSkipVerify                             bool              `json:"tlsSkipVerify,omitempty"`
	TLSUpstreamServerName                     string            `json:"tlsUpstreamServerName,omitempty"`
	TLSDownstreamServerName                   string            `json:"tlsDownstreamServerName,omitempty"`
	TLSCustomCAKeyPairID                      string            `json:"tlsCustomCaKeyPairId,omitempty"`
	TLSClientKeyPairID                        string            `json:"tlsClientKeyPairId,omitempty"`
	TLSDownstreamClientCAKeyPairID            string            `json:"tlsDownstreamClientCaKeyPairId,omitempty"`
	TLSUpstreamAllowRenegotiation             bool              `json:"tlsUpstreamAllowRenegotiation,omitempty"`
	SetRequestHeaders                         map[string]string `json:"setRequestHeaders,omitempty"`
	SetResponseHeaders                        map[string]string `json:"setResponseHeaders,omitempty"`
	RemoveRequestHeaders                      []string          `json:"removeRequestHeaders,omitempty"`
	PreserveHostHeader                        bool              `json:"preserveHostHeader,omitempty"`
	PassIdentityHeaders                       bool              `json:"passIdentityHeaders,omitempty"`
	KubernetesServiceAccountToken             string            `json:"kubernetesServiceAccountToken,omitempty"` // encrypted
	ShowErrorDetails                          bool              `json:"showErrorDetails,omitempty"`
	LoadBalancingPolicy                       string            `json:"loadBalancingPolicy,omitempty"`
	JWTIssuerFormat                           string            `json:"jwtIssuerFormat,omitempty"`
	IdentityProviderClientID                  string            `json:"identityProviderClientId,omitempty"`
	IdentityProviderClientSecret              string            `json:"identityProviderClientSecret,omitempty"` // encrypted
	PolicyIDs                                 []string          `json:"policyIds,omitempty"`
}

func (*Route) kind() Kind   { return KindRoute }
func (r *Route) index() row { return row{namespace: r.NamespaceID} }
func (r *Route) secrets() []*string {
	return []*string{&r.KubernetesServiceAccountToken, &r.IdentityProviderClientSecret}
}

// Policy is a named PPL policy. Enforced policies apply to every route in
// the namespace and its descendants.
type Policy struct {
	Meta
	NamespaceID string `json:"namespaceId,omitempty"`
	Name        string `json:"name"`
	Enforced    bool   `json:"enforced,omitempty"`
	// PPL is the policy as PPL in JSON (or YAML) text, as the API took it.
	PPL         string `json:"ppl"`
	Description string `json:"description,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	Remediation string `json:"remediation,omitempty"`
}

func (*Policy) kind() Kind         { return KindPolicy }
func (p *Policy) index() row       { return row{namespace: p.NamespaceID} }
func (*Policy) secrets() []*string { return nil }

// Namespace groups routes, policies and key pairs; ParentID "" is the
// global (root) namespace.
type Namespace struct {
	Meta
	ParentID string `json:"parentId,omitempty"`
	Name     string `json:"name"`
}

func (*Namespace) kind() Kind         { return KindNamespace }
func (n *Namespace) index() row       { return row{namespace: n.ParentID} }
func (*Namespace) secrets() []*string { return nil }

// KeyPair is a PEM certificate (chain) and its private key, encrypted.
type KeyPair struct {
	Meta
	NamespaceID string `json:"namespaceId,omitempty"`
	Name        string `json:"name"`
	Certificate string `json:"certificate"`
	Key         string `json:"key,omitempty"`
}

func (*KeyPair) kind() Kind           { return KindKeyPair }
func (k *KeyPair) index() row         { return row{namespace: k.NamespaceID} }
func (k *KeyPair) secrets() []*string { return []*string{&k.Key} }

// Settings are global (or per-namespace) settings changed through the API,
// overriding the config file's. Empty fields leave the file's value.
type Settings struct {
	Meta
	NamespaceID                   string            `json:"namespaceId,omitempty"`
	LogLevel                      string            `json:"logLevel,omitempty"`
	Address                       string            `json:"address,omitempty"`
	CookieName                    string            `json:"cookieName,omitempty"`
	CookieSecret                  string            `json:"cookieSecret,omitempty"` // encrypted
	CookieDomain                  string            `json:"cookieDomain,omitempty"`
	CookieExpire                  string            `json:"cookieExpire,omitempty"`
	CertificateAuthorityKeyPairID string            `json:"certificateAuthorityKeyPairId,omitempty"`
	SetResponseHeaders            map[string]string `json:"setResponseHeaders,omitempty"`
	JWTClaimsHeaders              map[string]string `json:"jwtClaimsHeaders,omitempty"`
	DefaultUpstreamTimeout        string            `json:"defaultUpstreamTimeout,omitempty"`
	PassIdentityHeaders           bool              `json:"passIdentityHeaders,omitempty"`
	AuthenticateServiceURL        string            `json:"authenticateServiceUrl,omitempty"`
	IdentityProvider              string            `json:"identityProvider,omitempty"`
	IdentityProviderURL           string            `json:"identityProviderUrl,omitempty"`
	IdentityProviderClientID      string            `json:"identityProviderClientId,omitempty"`
	IdentityProviderClientSecret  string            `json:"identityProviderClientSecret,omitempty"` // encrypted
	IdentityProviderScopes        []string          `json:"identityProviderScopes,omitempty"`
}

func (*Settings) kind() Kind   { return KindSettings }
func (s *Settings) index() row { return row{namespace: s.NamespaceID} }
func (s *Settings) secrets() []*string {
	return []*string{&s.CookieSecret, &s.IdentityProviderClientSecret}
}

// Activity is one activity log entry: who did what to which entity.
type Activity struct {
	Meta
	ActivityType string `json:"activityType"` // create, update, delete
	EntityType   string `json:"entityType"`   // route, policy, namespace, key_pair, settings, service_account, ...
	EntityID     string `json:"entityId"`
	EntityName   string `json:"entityName,omitempty"`
	NamespaceID  string `json:"namespaceId,omitempty"`
	UserID       string `json:"userId,omitempty"` // who
	ChangesetID  string `json:"changesetId,omitempty"`
	Summary      string `json:"summary,omitempty"`
}

func (*Activity) kind() Kind { return KindActivity }
func (a *Activity) index() row {
	return row{namespace: a.NamespaceID, user: a.UserID, entity: a.EntityID}
}
func (*Activity) secrets() []*string { return nil }

// DeviceCode is a pending device sign-in (RFC 8628). ID is a hash of the
// device_code the client polls with; UserCode (what the user types) is
// found with Query{EntityID: userCode}.
type DeviceCode struct {
	Meta
	UserCode  string    `json:"userCode"`
	SessionID string    `json:"sessionId,omitempty"` // set once the user confirmed
	TokenID   string    `json:"tokenId,omitempty"`
	Denied    bool      `json:"denied,omitempty"`
	LastPoll  time.Time `json:"lastPoll,omitzero"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

func (*DeviceCode) kind() Kind { return KindDeviceCode }
func (d *DeviceCode) index() row {
	return row{entity: d.UserCode, expires: unixNano(d.ExpiresAt)}
}
func (*DeviceCode) secrets() []*string { return nil }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Replica is one server process sharing the store, for the management
// API's cluster view: each writes its record on start and then on a
// heartbeat. Cleanup drops it once ExpiresAt (a day after the last
// heartbeat) has passed.
type Replica struct {
	Meta                    // ID: a random id per process
	Hostname      string    `json:"hostname"`
	Address       string    `json:"address"`
	ServerVersion string    `json:"serverVersion"`
	StartedAt     time.Time `json:"startedAt"`
	LastSeen      time.Time `json:"lastSeen"`
	ExpiresAt     time.Time `json:"expiresAt,omitzero"`
}

func (*Replica) kind() Kind         { return KindReplica }
func (r *Replica) index() row       { return row{expires: unixNano(r.ExpiresAt)} }
func (*Replica) secrets() []*string { return nil }
