package config

import (
	"crypto/tls"
	"crypto/x509"
	"regexp"
	"time"
)

// RouteSettings are the per-route settings of Pomerium's Routes
// reference beyond from/to/policy: matching, rewriting, headers,
// upstream TLS, load balancing. The zero value is Pomerium's default.
type RouteSettings struct {
	Regex              string
	RegexPriorityOrder int64

	Redirect *Redirect

	PrefixRewrite            string
	RegexRewritePattern      string
	RegexRewriteSubstitution string

	PreserveHostHeader               bool
	HostRewrite                      string
	HostRewriteHeader                string
	HostPathRegexRewritePattern      string
	HostPathRegexRewriteSubstitution string

	SetRequestHeaders      map[string]string
	RemoveRequestHeaders   []string
	SetResponseHeaders     map[string]string
	RewriteResponseHeaders []RewriteHeader

	AllowSPDY                                 bool
	CORSAllowPreflight                        bool
	KubernetesServiceAccountToken             string
	KubernetesServiceAccountTokenFile         string
	ShowErrorDetails                          *bool // nil: true (Pomerium's default)
	EnableGoogleCloudServerlessAuthentication bool

	TLSSkipVerify                 bool
	TLSServerName                 string // tls_server_name or tls_upstream_server_name
	TLSCustomCA                   string // base64 PEM
	TLSCustomCAFile               string
	TLSClientCert, TLSClientKey   string // base64 PEM
	TLSClientCertFile             string
	TLSClientKeyFile              string
	TLSUpstreamAllowRenegotiation bool
	TLSDownstreamClientCA         string // base64 PEM
	TLSDownstreamClientCAFile     string

	LBPolicy     string // ROUND_ROBIN (default), LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV
	HealthChecks []HealthCheck

	// Copied from the top-level settings by Parse.
	JWTClaimsHeaders  []ClaimHeader
	SkipXFFAppend     bool
	XFFNumTrustedHops int
	UpstreamRoots     []byte // PEM: certificate_authority, trusted with the system roots

	// Derived by validation.
	RegexRE                *regexp.Regexp
	RegexRewriteRE         *regexp.Regexp
	HostPathRegexRewriteRE *regexp.Regexp
	UpstreamTLS            *tls.Config    // nil: Go's defaults
	DownstreamClientCAs    *x509.CertPool // nil: no client certificate asked for
	// ClientCertEnforcement is how DownstreamClientCAs applies:
	// policy_with_default_deny (495 without a valid certificate), policy
	// (only client_certificate criteria look), reject_connection.
	ClientCertEnforcement string
	ClientCertMaxDepth    int // 0: no limit
	globalMTLS            *DownstreamMTLS
	KubernetesToken       string // the token to send (file read at load)
}

// Redirect is a route's `redirect:` block.
type Redirect struct {
	HTTPSRedirect  bool
	SchemeRedirect string
	HostRedirect   string
	PortRedirect   int
	PathRedirect   string
	PrefixRewrite  string
	ResponseCode   int // 0: 301
	StripQuery     bool
}

// RewriteHeader is one rewrite_response_headers entry.
type RewriteHeader struct {
	Header, Prefix, Value string
}

// HealthCheck is one health_checks entry (Envoy's shape, as Pomerium).
type HealthCheck struct {
	Timeout             time.Duration
	Interval            time.Duration
	UnhealthyThreshold  int
	HealthyThreshold    int
	HTTPPath            string // http_health_check.path ("" with TCP)
	HTTPHost            string
	ExpectedStatuses    [][2]int // [start, end) ranges; empty: 200
	TCP                 bool     // tcp_health_check
	TCPSend, TCPReceive []byte
}

// ShowErrors is show_error_details with its default (true).
func (r *RouteSettings) ShowErrors() bool { return r.ShowErrorDetails == nil || *r.ShowErrorDetails }

// MatchesPath applies path, prefix and regex (all that are set).
func (r *Route) MatchesPath(p string) bool {
	if r.Path != "" && p != r.Path {
		return false
	}
	if r.Prefix != "" && !hasPrefix(p, r.Prefix) {
		return false
	}
	if r.RegexRE != nil && !r.RegexRE.MatchString(p) {
		return false
	}
	return true
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// EnvoySubst turns an Envoy/Pomerium regex substitution (\1 for the
// first group) into Go's Expand syntax (${1}), keeping other text literal.
func EnvoySubst(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b = append(b, "${"...)
			b = append(b, s[i+1])
			b = append(b, '}')
			i++
		case c == '$':
			b = append(b, "$$"...)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// ExplicitTimeout is timeout as written (set false when left out).
func (r *Route) ExplicitTimeout() (time.Duration, bool) {
	return r.Timeout, r.timeoutSet || r.Timeout > 0
}
