package api

import "encoding/json"

// RouteSpec is a route as written by a client (createRoute and
// updateRoute bodies), with the reference's field names. Responses carry
// every field, set or not, as the reference's samples do.
type RouteSpec struct {
	NamespaceID                      string            `json:"namespaceId"`
	Name                             string            `json:"name"`
	From                             string            `json:"from"`
	To                               []string          `json:"to"`
	Response                         json.RawMessage   `json:"response"`
	Prefix                           string            `json:"prefix"`
	Path                             string            `json:"path"`
	Regex                            string            `json:"regex"`
	PrefixRewrite                    string            `json:"prefixRewrite"`
	RegexRewritePattern              string            `json:"regexRewritePattern"`
	RegexRewriteSubstitution         string            `json:"regexRewriteSubstitution"`
	HostRewrite                      string            `json:"hostRewrite"`
	HostRewriteHeader                string            `json:"hostRewriteHeader"`
	HostPathRegexRewritePattern      string            `json:"hostPathRegexRewritePattern"`
	HostPathRegexRewriteSubstitution string            `json:"hostPathRegexRewriteSubstitution"`
	RegexPriorityOrder               int64             `json:"regexPriorityOrder"`
	Timeout                          string            `json:"timeout"`
	IdleTimeout                      string            `json:"idleTimeout"`
	AllowWebsockets                  bool              `json:"allowWebsockets"`
	AllowSpdy                        bool              `json:"allowSpdy"`
	TLSSkipVerify                    bool              `json:"tlsSkipVerify"`
	TLSUpstreamServerName            string            `json:"tlsUpstreamServerName"`
	TLSDownstreamServerName          string            `json:"tlsDownstreamServerName"`
	TLSCustomCaKeyPairID             string            `json:"tlsCustomCaKeyPairId"`
	TLSClientKeyPairID               string            `json:"tlsClientKeyPairId"`
	TLSDownstreamClientCaKeyPairID   string            `json:"tlsDownstreamClientCaKeyPairId"`
	TLSUpstreamAllowRenegotiation    bool              `json:"tlsUpstreamAllowRenegotiation"`
	SetRequestHeaders                map[string]string `json:"setRequestHeaders"`
	SetResponseHeaders               map[string]string `json:"setResponseHeaders"`
	RemoveRequestHeaders             []string          `json:"removeRequestHeaders"`
	RewriteResponseHeaders           json.RawMessage   `json:"rewriteResponseHeaders"`
	PreserveHostHeader               bool              `json:"preserveHostHeader"`
	PassIdentityHeaders              bool              `json:"passIdentityHeaders"`
	KubernetesServiceAccountToken    string            `json:"kubernetesServiceAccountToken"`
	Redirect                         json.RawMessage   `json:"redirect"`
	EnableGoogleCloudServerlessAuth  bool              `json:"enableGoogleCloudServerlessAuthentication"`
	JWTIssuerFormat                  string            `json:"jwtIssuerFormat"`
	ShowErrorDetails                 bool              `json:"showErrorDetails"`
	HealthCheck                      json.RawMessage   `json:"healthCheck"`
	LoadBalancingPolicy              string            `json:"loadBalancingPolicy"`
	IdentityProviderClientID         string            `json:"identityProviderClientId"`
	IdentityProviderClientSecret     string            `json:"identityProviderClientSecret"`
	PolicyIDs                        []string          `json:"policyIds"`

	// Beyond the Zero reference: the portal shows them (Pomerium's route
	// keys description and logo_url).
	Description string `json:"description"`
	LogoURL     string `json:"logoUrl"`
}

// Route is a route as the API returns it.
type Route struct {
	ID        string `json:"id"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	RouteSpec
	EnforcedPolicies  []PolicyRef `json:"enforcedPolicies"`
	EnforcedPolicyIDs []string    `json:"enforcedPolicyIds"`
	Policies          []PolicyRef `json:"policies"`
	// ReadOnly marks a route from the YAML config: it is served and
	// listed, but only the file changes it.
	ReadOnly bool `json:"readOnly,omitempty"`
}

// PolicyRef names a policy attached to a route.
type PolicyRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// routeFieldKeys maps the reference's route fields to the Pomerium
// config keys the server's route parser knows, so that a route from the
// API is checked by exactly the rules the YAML is, and a parser error
// can be reported under the API's field name.
var routeFieldKeys = []struct{ field, key string }{
	{"from", "from"},
	{"to", "to"},
	{"name", "name"},
	{"description", "description"},
	{"logoUrl", "logo_url"},
	{"response", "response"},
	{"prefix", "prefix"},
	{"path", "path"},
	{"regex", "regex"},
	{"prefixRewrite", "prefix_rewrite"},
	{"regexRewritePattern", "regex_rewrite_pattern"},
	{"regexRewriteSubstitution", "regex_rewrite_substitution"},
	{"hostRewrite", "host_rewrite"},
	{"hostRewriteHeader", "host_rewrite_header"},
	{"hostPathRegexRewritePattern", "host_path_regex_rewrite_pattern"},
	{"hostPathRegexRewriteSubstitution", "host_path_regex_rewrite_substitution"},
	{"regexPriorityOrder", "regex_priority_order"},
	{"timeout", "timeout"},
	{"idleTimeout", "idle_timeout"},
	{"allowWebsockets", "allow_websockets"},
	{"allowSpdy", "allow_spdy"},
	{"tlsSkipVerify", "tls_skip_verify"},
	{"tlsUpstreamServerName", "tls_upstream_server_name"},
	{"tlsDownstreamServerName", "tls_downstream_server_name"},
	{"tlsCustomCaKeyPairId", "tls_custom_ca"},
	{"tlsClientKeyPairId", "tls_client_cert"},
	{"tlsClientKeyPairId", "tls_client_key"},
	{"tlsDownstreamClientCaKeyPairId", "tls_downstream_client_ca"},
	{"tlsUpstreamAllowRenegotiation", "tls_upstream_allow_renegotiation"},
	{"setRequestHeaders", "set_request_headers"},
	{"setResponseHeaders", "set_response_headers"},
	{"removeRequestHeaders", "remove_request_headers"},
	{"rewriteResponseHeaders", "rewrite_response_headers"},
	{"preserveHostHeader", "preserve_host_header"},
	{"passIdentityHeaders", "pass_identity_headers"},
	{"kubernetesServiceAccountToken", "kubernetes_service_account_token"},
	{"redirect", "redirect"},
	{"enableGoogleCloudServerlessAuthentication", "enable_google_cloud_serverless_authentication"},
	{"jwtIssuerFormat", "jwt_issuer_format"},
	{"showErrorDetails", "show_error_details"},
	{"healthCheck", "health_checks"},
	{"loadBalancingPolicy", "lb_policy"},
	{"identityProviderClientId", "idp_client_id"},
	{"identityProviderClientSecret", "idp_client_secret"},
	{"policyIds", "policy"},
}

func apiFieldForKey(key string) string {
	for _, m := range routeFieldKeys {
		if m.key == key {
			return m.field
		}
	}
	return ""
}
