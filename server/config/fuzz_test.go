package config

import (
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic and that every error
// is one line.
func FuzzParse(f *testing.F) {
	f.Add(fullConfig)
	f.Add("routes:\n  - from: tcp+https://p:1/db:5432\n    to: [\"tcp://db:5432,2\"]\n")
	f.Add("routes:\n  - from: https://a\n    to: http://a\n    policy: {allow: {or: [{accept: true}]}}\n")
	f.Add("routes: [{from: 'udp+https://[::1]:53', to: 'udp://[::1]:53'}]\n")
	f.Add("timeout_idle: 1m\ntimeout_read: 0s\ntimeout_write: 1h\ntimeout_read_header: 5s\nmax_connections: 5\nmax_header_bytes: 8192\n")
	f.Add("timeout_idle: 0s\nmax_connections: -1\nmax_header_bytes: 1e9\n")
	f.Add("max_connections: 0x10\ntimeout_read: 9999999999h\n")
	f.Add("routes:\n  - from: https://r\n    redirect: {https_redirect: true, port_redirect: 8443, response_code: 308}\n    allow_public_unauthenticated_access: true\n")
	f.Add("routes:\n  - from: https://r\n    to: http://u/x/\n    regex: '^/a/(.*)$'\n    regex_rewrite_pattern: '^/a/(.*)$'\n    regex_rewrite_substitution: '/\\1'\n    set_request_headers: {X-A: '${pomerium.jwt}'}\n    lb_policy: ring_hash\n    health_checks: [{tcp_health_check: {send: {text: '0102'}}}]\n")
	f.Add("certificates: [{cert: a, key: b}]\nmetrics_address: 127.0.0.1:0\njwt_claims_headers: a,b\npolicy: []\n")
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := Parse([]byte(doc))
		if err != nil {
			for _, c := range err.Error() {
				if c == '\n' {
					t.Fatalf("multi-line error: %q", err)
				}
			}
			return
		}
		// Whatever is accepted leaves every server-wide limit in force.
		if l := cfg.Limits.Effective(); l.TimeoutIdle <= 0 || l.TimeoutReadHeader <= 0 || l.MaxConnections <= 0 || l.MaxHeaderBytes < 1024 ||
			l.TimeoutRead < 0 || l.TimeoutWrite < 0 {
			t.Fatalf("limits %+v from %q", l, doc)
		}
		for i := range cfg.Routes {
			r := &cfg.Routes[i]
			if r.FromURL == nil || r.Type == "" || (len(r.To) == 0 && r.Redirect == nil) {
				t.Fatalf("route %d not fully derived: %+v", i, r)
			}
			if r.Type != "http" && r.Authority == "" {
				t.Fatalf("route %d (%s) has no authority", i, r.From)
			}
			r.EffectivePolicy().Evaluate(nil)
			for k, v := range r.SetRequestHeaders {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					t.Fatalf("route %d: header %q: %q accepted with a control character", i, k, v)
				}
			}
		}
	})
}
