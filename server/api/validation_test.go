package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/store"
)

func routeBody(over map[string]any) map[string]any {
	b := map[string]any{"namespaceId": NamespaceID, "name": "r", "from": "https://app.localhost", "to": []string{"http://127.0.0.1:9"}, "policyIds": []string{}}
	for k, v := range over {
		if v == nil {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	return b
}

func policyBody(over map[string]any) map[string]any {
	b := map[string]any{"namespaceId": NamespaceID, "name": "p", "enforced": false,
		"ppl": json.RawMessage(`{"allow":{"or":[{"email":{"is":"a@example.com"}}]}}`), "description": "", "explanation": "", "remediation": ""}
	for k, v := range over {
		if v == nil {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	return b
}

// TestBadBodies: every invalid body is a 400 whose message starts with
// the field at fault, and nothing is written.
func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, path string
		body       any
		field      string
	}{
		{"policy unknown field", "/policies", policyBody(map[string]any{"colour": "red"}), "colour:"},
		{"policy no name", "/policies", policyBody(map[string]any{"name": ""}), "name:"},
		{"policy long name", "/policies", policyBody(map[string]any{"name": strings.Repeat("n", 129)}), "name:"},
		{"policy no ppl", "/policies", policyBody(map[string]any{"ppl": nil}), "ppl:"},
		{"policy ppl scalar", "/policies", policyBody(map[string]any{"ppl": "allow"}), "ppl:"},
		{"policy ppl typo", "/policies", policyBody(map[string]any{"ppl": json.RawMessage(`{"allow":{"and":[{"emial":{"is":"x"}}]}}`)}), "ppl:"},
		{"policy ppl bad matcher", "/policies", policyBody(map[string]any{"ppl": json.RawMessage(`{"allow":{"and":[{"email":{"equals":"x"}}]}}`)}), "ppl:"},
		{"policy enforced type", "/policies", policyBody(map[string]any{"enforced": "yes"}), "enforced:"},
		{"policy namespace", "/policies", policyBody(map[string]any{"namespaceId": "other"}), "namespaceId:"},
		{"route no from", "/routes", routeBody(map[string]any{"from": nil}), "from:"},
		{"route bad scheme", "/routes", routeBody(map[string]any{"from": "ftp://x.localhost"}), "from:"},
		{"route to scheme", "/routes", routeBody(map[string]any{"to": []string{"ftp://127.0.0.1:9"}}), "to:"},
		{"route tcp to", "/routes", routeBody(map[string]any{"from": "tcp+https://db.localhost:5432", "to": []string{"http://127.0.0.1:9"}}), "to:"},
		{"route no name", "/routes", routeBody(map[string]any{"name": nil}), "name:"},
		{"route unknown policy", "/routes", routeBody(map[string]any{"policyIds": []string{"nope"}}), "policyIds[0]:"},
		{"route twice policy", "/routes", routeBody(map[string]any{"policyIds": []string{"a", "a"}}), "policyIds:"},
		{"route timeout", "/routes", routeBody(map[string]any{"timeout": "soon"}), "timeout:"},
		{"route to type", "/routes", routeBody(map[string]any{"to": "http://127.0.0.1:9"}), "to:"},
		{"route unknown field", "/routes", routeBody(map[string]any{"allowEverything": true}), "allowEverything:"},
		{"route unknown key pair", "/routes", routeBody(map[string]any{"tlsCustomCaKeyPairId": "nope"}), "tlsCustomCaKeyPairId:"},
		{"key pair no cert", "/keyPairs", map[string]any{"namespaceId": NamespaceID, "name": "k", "certificate": ""}, "certificate:"},
		{"key pair junk", "/keyPairs", map[string]any{"namespaceId": NamespaceID, "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "certificate:"},
		{"api user no name", "/apiUsers", map[string]any{"name": ""}, "name:"},
		{"api user role", "/apiUsers", map[string]any{"name": "x", "role": "auditor"}, "role:"},
		{"settings read-only", "/clusters/default/settings", map[string]any{"logLevel": "info", "address": ":9999"}, "address:"},
		{"settings log level", "/clusters/default/settings", map[string]any{"logLevel": "loud"}, "logLevel:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if strings.HasSuffix(tc.path, "/settings") {
				method = "PUT"
			}
			msg := e.message(method, org+tc.path, tc.body, 400)
			if !strings.HasPrefix(msg, tc.field) {
				t.Errorf("message %q; want it to start with %q", msg, tc.field)
			}
		})
	}
	e.message("POST", org+"/routes", "{not json", 400)
	e.message("POST", org+"/routes", `{"name":"a"} {"name":"b"}`, 400)
	var routes []map[string]any
	e.call("GET", org+"/routes", nil, 200, &routes, nil)
	var pols []map[string]any
	e.call("GET", org+"/policies", nil, 200, &pols, nil)
	if len(routes) != 1 || len(pols) != 0 {
		t.Errorf("after bad bodies: %d routes (want only the YAML one), %d policies (want 0)", len(routes), len(pols))
	}
}

// TestRouteFieldsMatchConfig: for every route field, the API accepts a
// value exactly when the server's config parser accepts the matching
// key, and otherwise refuses it naming the API field. The route
// settings grow with the server; this keeps the API honest about them.
func TestRouteFieldsMatchConfig(t *testing.T) {
	e := newEnv(t)
	samples := []struct {
		field string
		value any
		yaml  string
		to    string // default http://127.0.0.1:9
	}{
		{"prefix", "/app", "prefix: /app", ""},
		{"path", "/exact", "path: /exact", ""},
		{"regex", "^/r/.*$", `regex: "^/r/.*$"`, ""},
		{"prefixRewrite", "/new", "prefix_rewrite: /new", ""},
		{"regexRewritePattern", "^/a", `regex_rewrite_pattern: "^/a"`, ""},
		{"hostRewrite", "internal.localhost", "host_rewrite: internal.localhost", ""},
		{"hostRewriteHeader", "X-Host", "host_rewrite_header: X-Host", ""},
		{"timeout", "45s", "timeout: 45s", ""},
		{"idleTimeout", "2m", "idle_timeout: 2m", ""},
		{"allowWebsockets", true, "allow_websockets: true", ""},
		{"allowSpdy", true, "allow_spdy: true", ""},
		{"tlsSkipVerify", true, "tls_skip_verify: true", "https://127.0.0.1:9"},
		{"tlsUpstreamServerName", "up.localhost", "tls_upstream_server_name: up.localhost", "https://127.0.0.1:9"},
		{"tlsUpstreamAllowRenegotiation", true, "tls_upstream_allow_renegotiation: true", "https://127.0.0.1:9"},
		{"setRequestHeaders", map[string]string{"X-A": "1"}, "set_request_headers: {X-A: \"1\"}", ""},
		{"setResponseHeaders", map[string]string{"X-B": "2"}, "set_response_headers: {X-B: \"2\"}", ""},
		{"removeRequestHeaders", []string{"X-C"}, "remove_request_headers: [X-C]", ""},
		{"preserveHostHeader", true, "preserve_host_header: true", ""},
		{"passIdentityHeaders", true, "pass_identity_headers: true", ""},
		{"showErrorDetails", true, "show_error_details: true", ""},
		{"enableGoogleCloudServerlessAuthentication", true, "enable_google_cloud_serverless_authentication: true", ""},
		{"jwtIssuerFormat", "uri", "jwt_issuer_format: uri", ""},
		{"loadBalancingPolicy", "round_robin", "lb_policy: ROUND_ROBIN", ""},
		{"kubernetesServiceAccountToken", "tok", "kubernetes_service_account_token: tok", ""},
		{"description", "about", "description: about", ""},
	}
	for i, s := range samples {
		t.Run(s.field, func(t *testing.T) {
			host := fmt.Sprintf("f%d.localhost", i)
			to := s.to
			if to == "" {
				to = "http://127.0.0.1:9"
			}
			_, cfgErr := config.Parse([]byte("routes:\n- from: https://" + host + "\n  to: " + to + "\n  " + s.yaml + "\n"))
			body := routeBody(map[string]any{"from": "https://" + host, "to": []string{to}, s.field: s.value})
			if cfgErr == nil {
				e.createRoute(body)
				return
			}
			msg := e.message("POST", org+"/routes", body, 400)
			if !strings.HasPrefix(msg, s.field) {
				t.Errorf("config refuses %s (%v) but the API says %q; want a message naming %s", s.yaml, cfgErr, msg, s.field)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	e := newEnv(t)
	first := e.createRoute(routeBody(map[string]any{"from": "tcp+https://" + testAddr + "/db.internal:5432", "to": []string{"tcp://127.0.0.1:5432"}}))
	e.createRoute(routeBody(map[string]any{"from": "https://app.localhost", "prefix": "/a"}))
	e.createRoute(routeBody(map[string]any{"from": "https://app.localhost", "prefix": "/b"}))
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"same tcp authority", routeBody(map[string]any{"from": "tcp+https://other.localhost/db.internal:5432", "to": []string{"tcp://127.0.0.1:1"}}), first["id"].(string)},
		{"yaml route", routeBody(map[string]any{"from": "tcp+https://" + testAddr + "/yaml.internal:22", "to": []string{"tcp://127.0.0.1:1"}}), "config-"},
		{"same prefix", routeBody(map[string]any{"from": "https://app.localhost", "prefix": "/a"}), "https://app.localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := e.message("POST", org+"/routes", tc.body, 409)
			if !strings.HasPrefix(msg, "from:") || !strings.Contains(msg, tc.want) {
				t.Errorf("message %q; want from: naming %q", msg, tc.want)
			}
		})
	}
	// Moving a route onto another's from is a 409 too, and leaves it be.
	id := first["id"].(string)
	e.message("PUT", org+"/routes/"+id, routeBody(map[string]any{"from": "https://app.localhost", "prefix": "/b"}), 409)
	var got map[string]any
	e.call("GET", org+"/routes/"+id, nil, 200, &got, nil)
	if got["from"] != first["from"] {
		t.Errorf("after a refused update from = %v; want %v", got["from"], first["from"])
	}
	var logs []map[string]any
	e.call("GET", org+"/activityLogs"+query("entityType", "route"), nil, 200, &logs, nil)
	if len(logs) != 3 {
		t.Errorf("activity entries for routes = %d; want 3 (refused changes leave none)", len(logs))
	}
	// YAML routes are read-only.
	var routes []map[string]any
	e.call("GET", org+"/routes", nil, 200, &routes, nil)
	yid := routes[0]["id"].(string)
	e.message("PUT", org+"/routes/"+yid, routeBody(nil), 403)
	e.message("DELETE", org+"/routes/"+yid, nil, 403)
}

// TestPolicies: a route's policies and the enforced ones decide who gets
// in; a policy in use cannot be deleted.
func TestPolicies(t *testing.T) {
	e := newEnv(t)
	allow := e.createPolicy("alice", false, `{"allow":{"or":[{"email":{"is":"alice@example.com"}}]}}`)
	rt := e.createRoute(routeBody(map[string]any{"policyIds": []string{allow["id"].(string)}}))
	decide := func(email string) policy.Decision {
		t.Helper()
		routes, err := CompileRoutes(context.Background(), e.st)
		if err != nil || len(routes) != 1 {
			t.Fatalf("CompileRoutes = %d routes, %v", len(routes), err)
		}
		return routes[0].EffectivePolicy().Evaluate(&policy.Identity{User: email, Email: email})
	}
	if d := decide("alice@example.com"); d != policy.Allow {
		t.Errorf("alice: %v; want allow", d)
	}
	if d := decide("bob@example.com"); d != policy.Deny {
		t.Errorf("bob: %v; want deny", d)
	}
	deny := e.createPolicy("no alice", true, `{"deny":{"or":[{"email":{"is":"alice@example.com"}}]}}`)
	if d := decide("alice@example.com"); d != policy.Deny {
		t.Errorf("alice after an enforced deny: %v; want deny", d)
	}
	var got map[string]any
	e.call("GET", org+"/routes/"+rt["id"].(string), nil, 200, &got, nil)
	if ids := got["enforcedPolicyIds"].([]any); len(ids) != 1 || ids[0] != deny["id"] {
		t.Errorf("enforcedPolicyIds = %v; want [%v]", ids, deny["id"])
	}
	e.call("GET", org+"/policies/"+allow["id"].(string), nil, 200, &got, nil)
	if rs := got["routes"].([]any); len(rs) != 1 {
		t.Errorf("policy routes = %v; want the route", rs)
	}
	msg := e.message("DELETE", org+"/policies/"+allow["id"].(string), nil, 409)
	if !strings.Contains(msg, rt["id"].(string)) {
		t.Errorf("delete message %q; want it to name the route", msg)
	}
	e.call("DELETE", org+"/policies/"+deny["id"].(string), nil, 204, nil, nil)
	if d := decide("alice@example.com"); d != policy.Allow {
		t.Errorf("alice after deleting the deny: %v; want allow", d)
	}
	// A route without policies lets nobody in.
	e.call("PUT", org+"/routes/"+rt["id"].(string), routeBody(nil), 200, nil, nil)
	if d := decide("alice@example.com"); d == policy.Allow {
		t.Errorf("route without policies: %v; want no allow", d)
	}
}

func TestActivityLogFilters(t *testing.T) {
	e := newEnv(t)
	p := e.createPolicy("p", false, `{"allow":{"or":[{"accept":true}]}}`)
	r := e.createRoute(routeBody(map[string]any{"policyIds": []string{p["id"].(string)}}))
	e.call("PUT", org+"/routes/"+r["id"].(string), routeBody(map[string]any{"name": "r2"}), 200, nil, nil)
	e.call("DELETE", org+"/routes/"+r["id"].(string), nil, 204, nil, nil)
	users, err := store.APIUsers.List(context.Background(), e.st, store.Query{})
	if err != nil || len(users) != 1 {
		t.Fatal(users, err)
	}
	for _, tc := range []struct {
		q    string
		want []string // activityType/entityType, newest first
	}{
		{query("entityId", r["id"].(string)), []string{"delete/route", "update/route", "create/route"}},
		{query("entityId", r["id"].(string), "limit", "1"), []string{"delete/route"}},
		{query("entityId", r["id"].(string), "offset", "1", "limit", "1"), []string{"update/route"}},
		{query("entityType", "policy"), []string{"create/policy"}},
		{query("activityType", "update"), []string{"update/route"}},
		{query("entityType", "route", "limit", "1"), []string{"delete/route"}},
		{query("entityType", "route", "offset", "1", "limit", "1"), []string{"update/route"}},
		{query("userId", users[0].ID, "entityType", "route", "activityType", "create"), []string{"create/route"}},
		{query("userId", "someone-else"), nil},
	} {
		t.Run(tc.q, func(t *testing.T) {
			var logs []ActivityLog
			e.call("GET", org+"/activityLogs"+tc.q, nil, 200, &logs, nil)
			var got []string
			for _, l := range logs {
				got = append(got, l.ActivityType+"/"+l.EntityType)
				if l.UserID != users[0].ID {
					t.Errorf("entry %v by %q; want the API user %q", l, l.UserID, users[0].ID)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
	e.message("GET", org+"/activityLogs"+query("entityType", "car"), nil, 400)
	e.message("GET", org+"/activityLogs"+query("limit", "-1"), nil, 400)
}

func TestAPINames(t *testing.T) {
	for in, want := range map[string]string{
		"host_path_regex_rewrite_pattern: bad":                    "hostPathRegexRewritePattern: bad",
		"regex_rewrite_pattern needs regex_rewrite_substitution":  "regexRewritePattern needs regexRewriteSubstitution",
		"tls_* upstream settings need an https:// upstream in to": "tls* upstream settings need an https:// upstream in to",
	} {
		if got := apiNames(in); got != want {
			t.Errorf("apiNames(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestReplicaHealth: a replica whose heartbeat stopped is shown failing.
func TestReplicaHealth(t *testing.T) {
	e := newEnv(t)
	e.advance(time.Minute) // r1's last beat is now a minute old
	st := e.now
	if err := store.Replicas.Put(context.Background(), e.st, &store.Replica{Meta: store.Meta{ID: "r2"}, Hostname: "h2",
		ServerVersion: "v2", StartedAt: st, LastSeen: st}); err != nil {
		t.Fatal(err)
	}
	var reps []Replica
	e.call("GET", org+"/clusters/"+ClusterID+"/replicas", nil, 200, &reps, nil)
	got := map[string]bool{}
	for _, r := range reps {
		got[r.Hostname] = r.Healthy
	}
	if len(reps) != 2 || got["h1"] || !got["h2"] {
		t.Errorf("replicas %+v; want h1 failing (stale heartbeat) and h2 healthy", reps)
	}
	var cl Cluster
	e.call("GET", org+"/clusters/"+ClusterID, nil, 200, &cl, nil)
	if !cl.HasFailingHealthChecks {
		t.Error("cluster hasFailingHealthChecks = false with a stale replica")
	}
	e.call("GET", org+"/clusters/"+ClusterID+"/replicas"+query("startTime", "2001-01-01T00:00:00Z"), nil, 200, &reps, nil)
	e.message("GET", org+"/clusters/"+ClusterID+"/replicas"+query("startTime", "yesterday"), nil, 400)
}

// TestKeyPairsInRoutes: a route names key pairs by id; the route is
// compiled with their PEM, and a key pair in use cannot be deleted.
func TestKeyPairsInRoutes(t *testing.T) {
	e := newEnv(t)
	_, ca := selfSigned(t, "upstream-ca.localhost", true)
	_, client := selfSigned(t, "client.localhost", false)
	var caKP, clientKP, noKey map[string]any
	e.call("POST", org+"/keyPairs", map[string]any{"namespaceId": NamespaceID, "certificate": ca[0]}, 201, &caKP, nil)
	e.call("POST", org+"/keyPairs", map[string]any{"namespaceId": NamespaceID, "certificate": client[0], "key": client[1]}, 201, &clientKP, nil)
	e.call("POST", org+"/keyPairs", map[string]any{"namespaceId": NamespaceID, "certificate": client[0]}, 201, &noKey, nil)
	if caKP["name"] != "upstream-ca.localhost" || caKP["hasKey"] != false {
		t.Errorf("CA key pair %v; want named after its CN, without a key", caKP)
	}
	rt := e.createRoute(routeBody(map[string]any{"to": []string{"https://127.0.0.1:9"},
		"tlsCustomCaKeyPairId": caKP["id"], "tlsClientKeyPairId": clientKP["id"]}))
	routes, err := CompileRoutes(context.Background(), e.st)
	if err != nil || len(routes) != 1 {
		t.Fatalf("CompileRoutes: %d, %v", len(routes), err)
	}
	if routes[0].TLSCustomCA == "" || routes[0].TLSClientCert == "" {
		t.Errorf("compiled route lacks the key pairs' PEM: ca %q client %q", routes[0].TLSCustomCA, routes[0].TLSClientCert)
	}
	msg := e.message("POST", org+"/routes", routeBody(map[string]any{"from": "https://other.localhost", "to": []string{"https://127.0.0.1:9"},
		"tlsClientKeyPairId": noKey["id"]}), 400)
	if !strings.HasPrefix(msg, "tlsClientKeyPairId:") {
		t.Errorf("client key pair without a key: %q; want tlsClientKeyPairId named", msg)
	}
	msg = e.message("DELETE", org+"/keyPairs/"+caKP["id"].(string), nil, 409)
	if !strings.Contains(msg, rt["id"].(string)) {
		t.Errorf("deleting a key pair in use: %q; want the route named", msg)
	}
	e.call("DELETE", org+"/keyPairs/"+noKey["id"].(string), nil, 204, nil, nil)
	// The server's own certificate is listed and read-only.
	var kps []map[string]any
	e.call("GET", org+"/keyPairs", nil, 200, &kps, nil)
	sys := kps[0]["id"].(string)
	if kps[0]["origin"] != "system" || !strings.HasPrefix(sys, "system-") {
		t.Fatalf("first key pair %v; want the server's (system)", kps[0])
	}
	e.message("DELETE", org+"/keyPairs/"+sys, nil, 403)
	e.message("PUT", org+"/keyPairs/"+sys, map[string]any{"name": "x"}, 403)
}
