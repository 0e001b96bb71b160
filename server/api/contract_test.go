package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The contract tests read the reference itself (testdata holds copies of
// shared/reference/zero-api-*.txt): every field of an operation's
// response sample, and of the guide's samples, must be in our response
// with the sample's JSON type.

// documented maps an operation name to its response sample's fields and
// their JSON kinds.
func documented(t *testing.T) map[string]map[string]string {
	t.Helper()
	data, err := os.ReadFile("testdata/zero-api-reference.txt")
	if err != nil {
		t.Fatal(err)
	}
	opName := regexp.MustCompile(`^(list|get|create|update|delete|patch|apply|rotate|remove|renew|Renew|compare)[A-Za-z]+$`)
	field := regexp.MustCompile(`^\s*•\s+"([A-Za-z]+)":\s*(.*)$`)
	out := map[string]map[string]string{}
	var op string
	inSample := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case opName.MatchString(line) && line != "removeRequestHeaders": // a route field, not an operation
			op, inSample = line, false
			if out[op] != nil {
				op = "" // a repeated operation (settings appear twice): keep the first
			}
		case strings.TrimSpace(line) == "Response samples":
			inSample = op != ""
			if inSample {
				out[op] = map[string]string{}
			}
		case strings.TrimSpace(line) == "Request samples":
			inSample = false
		case inSample:
			if m := field.FindStringSubmatch(line); m != nil {
				out[op][m[1]] = jsonKindOf(m[2])
			}
		}
	}
	return out
}

func jsonKindOf(sample string) string {
	s := strings.TrimSuffix(strings.TrimSpace(sample), ",")
	switch {
	case strings.HasPrefix(s, `"`):
		return "string"
	case s == "true" || s == "false":
		return "bool"
	case strings.HasPrefix(s, "["):
		return "array"
	case strings.HasPrefix(s, "{"):
		return "object"
	case s != "" && (s[0] >= '0' && s[0] <= '9' || s[0] == '-'):
		return "number"
	}
	return "unknown:" + s
}

func kindOfValue(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return "?"
}

// guideSamples are the JSON responses shown in the guide, in order:
// token, organizations, clusters, policy, route.
func guideSamples(t *testing.T) []any {
	t.Helper()
	data, err := os.ReadFile("testdata/zero-api-guide.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []any
	for i := 0; i < len(lines); i++ {
		if lines[i] != "{" && lines[i] != "[" {
			continue
		}
		for j := i + 1; j < len(lines) && j < i+80; j++ {
			var v any
			if json.Unmarshal([]byte(strings.Join(lines[i:j+1], "\n")), &v) == nil {
				// A one-key object is a fragment of a curl body's PPL.
				if m, ok := v.(map[string]any); !ok || len(m) > 1 {
					out = append(out, v)
				}
				i = j
				break
			}
		}
	}
	if len(out) != 5 {
		t.Fatalf("found %d JSON samples in the guide; want 5 (token, organizations, clusters, policy, route)", len(out))
	}
	return out
}

var timeFields = map[string]bool{"createdAt": true, "updatedAt": true, "joinedAt": true}

// checkFields fails for each field of want missing from got or of
// another JSON type. Times must be RFC 3339.
func checkFields(t *testing.T, op string, want map[string]string, got map[string]any) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the reference documents no fields (parser broken?)", op)
	}
	for f, kind := range want {
		v, ok := got[f]
		if !ok {
			t.Errorf("%s: response lacks documented field %q; got %v", op, f, keys(got))
			continue
		}
		// An optional object that is not set is null.
		// ppl is "PPLRule (object) or Array of PPLRule (objects)".
		k := kindOfValue(v)
		if k != kind && !(kind == "object" && k == "null") && !(f == "ppl" && k == "array") {
			t.Errorf("%s: field %q is %s (%v); the reference documents %s", op, f, k, v, kind)
		}
		if timeFields[f] {
			if _, err := time.Parse(time.RFC3339, v.(string)); err != nil {
				t.Errorf("%s: field %q = %q is not RFC 3339", op, f, v)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sampleFields(v any) map[string]string {
	if l, ok := v.([]any); ok {
		v = l[0]
	}
	out := map[string]string{}
	for k, e := range v.(map[string]any) {
		out[k] = kindOfValue(e)
	}
	return out
}

func TestReferenceParsed(t *testing.T) {
	docs := documented(t)
	for _, op := range []string{"createRoute", "getRoute", "updateRoute", "createPolicy", "getPolicy", "updatePolicy",
		"getIdToken", "createKeyPair", "getKeyPair", "updateKeyPair", "getSettings", "updateSettings", "patchSettings",
		"getCluster", "updateCluster", "applyChangeset", "createApiAccessUser", "RenewApiUserRefreshToken"} {
		if len(docs[op]) == 0 {
			t.Errorf("no documented response fields for %s", op)
		}
	}
	if got := docs["createRoute"]["allowWebsockets"]; got != "bool" {
		t.Errorf("createRoute allowWebsockets kind = %q; want bool", got)
	}
}

// TestContract runs every operation the server implements and checks
// status codes and documented fields.
func TestContract(t *testing.T) {
	docs := documented(t)
	guide := guideSamples(t)
	e := newEnv(t)

	var tok map[string]any
	e.call("POST", "/api/v0/token", map[string]string{"refreshToken": e.token}, 200, &tok, nil)
	checkFields(t, "getIdToken", docs["getIdToken"], tok)
	checkFields(t, "guide token", sampleFields(guide[0]), tok)
	if tok["expiresInSeconds"] != "3600" {
		t.Errorf("expiresInSeconds = %v; want \"3600\"", tok["expiresInSeconds"])
	}

	var orgs []map[string]any
	e.call("GET", "/api/v0/organizations", nil, 200, &orgs, nil)
	if len(orgs) != 1 {
		t.Fatalf("organizations: %d; want 1", len(orgs))
	}
	checkFields(t, "guide organizations", sampleFields(guide[1]), orgs[0])

	var clusters []map[string]any
	e.call("GET", org+"/clusters", nil, 200, &clusters, nil)
	if len(clusters) != 1 {
		t.Fatalf("clusters: %d; want 1", len(clusters))
	}
	checkFields(t, "guide clusters", sampleFields(guide[2]), clusters[0])
	var cl map[string]any
	e.call("GET", org+"/clusters/"+ClusterID, nil, 200, &cl, nil)
	checkFields(t, "getCluster", docs["getCluster"], cl)
	e.call("PUT", org+"/clusters/"+ClusterID, map[string]any{"name": "renamed"}, 200, &cl, nil)
	checkFields(t, "updateCluster", docs["updateCluster"], cl)
	if cl["name"] != "renamed" {
		t.Errorf("updateCluster name = %v; want renamed", cl["name"])
	}
	var nss []map[string]any
	e.call("GET", org+"/namespaces", nil, 200, &nss, nil)
	if len(nss) != 1 || nss[0]["id"] != clusters[0]["namespaceId"] {
		t.Errorf("namespaces = %v; want the cluster's namespace %v", nss, clusters[0]["namespaceId"])
	}
	var reps, health []map[string]any
	e.call("GET", org+"/clusters/"+ClusterID+"/replicas", nil, 200, &reps, nil)
	e.call("GET", org+"/clusters/"+ClusterID+"/health", nil, 200, &health, nil)
	if len(reps) != 1 || reps[0]["healthy"] != true || reps[0]["hostname"] != "h1" || len(health) == 0 {
		t.Errorf("replicas %v, health %v; want the one healthy replica and its checks", reps, health)
	}
	if cl["hasFailingHealthChecks"] != false || cl["minReplicaVersion"] != "v1" {
		t.Errorf("cluster %v; want healthy, minReplicaVersion v1", cl)
	}

	pol := e.createPolicy("Allow matching email", false, `{"allow":{"and":[{"email":{"is":"user@example.com"}}]}}`)
	checkFields(t, "createPolicy", docs["createPolicy"], pol)
	checkFields(t, "guide policy", sampleFields(guide[3]), pol)
	pid := pol["id"].(string)
	var got map[string]any
	e.call("GET", org+"/policies/"+pid, nil, 200, &got, nil)
	checkFields(t, "getPolicy", docs["getPolicy"], got)
	e.call("PUT", org+"/policies/"+pid, map[string]any{"namespaceId": NamespaceID, "name": "renamed", "enforced": false,
		"ppl": json.RawMessage(`[{"allow":{"or":[{"email":{"is":"user@example.com"}}]}}]`), "description": "", "explanation": "", "remediation": ""}, 200, &got, nil)
	checkFields(t, "updatePolicy", docs["updatePolicy"], got)
	var pols []map[string]any
	e.call("GET", org+"/policies"+query("namespaceId", NamespaceID), nil, 200, &pols, nil)
	if len(pols) != 1 {
		t.Fatalf("policies: %d; want 1", len(pols))
	}
	checkFields(t, "listPolicies[0]", docs["getPolicy"], pols[0])

	rt := e.createRoute(map[string]any{"namespaceId": NamespaceID, "name": "HTTP Bin", "from": "https://httpbin.localhost",
		"to": []string{"http://httpbin:80"}, "policyIds": []string{pid}})
	checkFields(t, "createRoute", docs["createRoute"], rt)
	checkFields(t, "guide route", sampleFields(guide[4]), rt)
	rid := rt["id"].(string)
	if ps := rt["policies"].([]any); len(ps) != 1 || ps[0].(map[string]any)["name"] != "renamed" {
		t.Errorf("route policies = %v; want the policy by id and name", ps)
	}
	e.call("GET", org+"/routes/"+rid, nil, 200, &got, nil)
	checkFields(t, "getRoute", docs["getRoute"], got)
	e.call("PUT", org+"/routes/"+rid, map[string]any{"namespaceId": NamespaceID, "name": "HTTP Bin 2", "from": "https://httpbin.localhost",
		"to": []string{"http://httpbin:81"}, "policyIds": []string{pid}, "allowWebsockets": true}, 200, &got, nil)
	checkFields(t, "updateRoute", docs["updateRoute"], got)
	if got["name"] != "HTTP Bin 2" || got["allowWebsockets"] != true {
		t.Errorf("updateRoute = %v; want the new name and allowWebsockets", got)
	}
	var routes []map[string]any
	e.call("GET", org+"/routes"+query("namespaceId", NamespaceID), nil, 200, &routes, nil)
	if len(routes) != 2 {
		t.Fatalf("routes: %d; want the YAML route and the API's", len(routes))
	}
	for _, r := range routes {
		checkFields(t, "listRoutes[]", docs["getRoute"], r)
	}
	if routes[0]["readOnly"] != true || routes[1]["readOnly"] != nil {
		t.Errorf("readOnly = %v, %v; want the YAML route (first) read-only only", routes[0]["readOnly"], routes[1]["readOnly"])
	}
	var certs []map[string]any
	e.call("GET", org+"/routes/"+rid+"/certificates", nil, 200, &certs, nil)

	_, kpPEM := selfSigned(t, "ca.localhost", true)
	var kp map[string]any
	e.call("POST", org+"/keyPairs", map[string]any{"namespaceId": NamespaceID, "name": "my CA", "certificate": kpPEM[0], "key": kpPEM[1]}, 201, &kp, nil)
	checkFields(t, "createKeyPair", docs["createKeyPair"], kp)
	if _, leaked := kp["key"]; leaked || kp["hasKey"] != true {
		t.Errorf("key pair = %v; want hasKey and no key", kp)
	}
	kid := kp["id"].(string)
	e.call("GET", org+"/keyPairs/"+kid, nil, 200, &got, nil)
	checkFields(t, "getKeyPair", docs["getKeyPair"], got)
	e.call("PUT", org+"/keyPairs/"+kid, map[string]any{"namespaceId": NamespaceID, "name": "renamed CA"}, 200, &got, nil)
	checkFields(t, "updateKeyPair", docs["updateKeyPair"], got)
	if got["name"] != "renamed CA" || got["certificate"] != kpPEM[0] {
		t.Errorf("updateKeyPair kept %v; want the new name and the old certificate", got)
	}
	var kps []map[string]any
	e.call("GET", org+"/keyPairs", nil, 200, &kps, nil)
	if len(kps) != 2 || kps[0]["origin"] != "system" || kps[1]["origin"] != "user" {
		t.Errorf("key pairs = %v; want the server's (system) and ours (user)", kps)
	}

	var set map[string]any
	e.call("GET", org+"/clusters/"+ClusterID+"/settings", nil, 200, &set, nil)
	checkFields(t, "getSettings", docs["getSettings"], set)
	set["logLevel"] = "debug"
	e.call("PUT", org+"/clusters/"+ClusterID+"/settings", set, 200, &got, nil)
	checkFields(t, "updateSettings", docs["updateSettings"], got)
	if got["logLevel"] != "debug" {
		t.Errorf("updateSettings logLevel = %v; want debug", got["logLevel"])
	}
	e.call("PATCH", org+"/clusters/"+ClusterID+"/settings", []map[string]any{{"op": "test", "path": "/logLevel", "value": "debug"},
		{"op": "replace", "path": "/logLevel", "value": "warn"}}, 200, &got, nil)
	checkFields(t, "patchSettings", docs["patchSettings"], got)
	if got["logLevel"] != "warn" {
		t.Errorf("patchSettings logLevel = %v; want warn", got["logLevel"])
	}

	var user map[string]any
	e.call("POST", org+"/apiUsers", map[string]any{"name": "ci", "role": "admin"}, 201, &user, nil)
	checkFields(t, "createApiAccessUser", docs["createApiAccessUser"], user)
	uid := user["id"].(string)
	var renewed map[string]any
	e.call("POST", org+"/users/"+uid+"/renew", nil, 200, &renewed, nil)
	checkFields(t, "RenewApiUserRefreshToken", docs["RenewApiUserRefreshToken"], renewed)
	var users []map[string]any
	e.call("GET", org+"/users"+query("userType", "user_type_api_access"), nil, 200, &users, nil)
	if len(users) != 2 {
		t.Errorf("users = %d; want 2 API users", len(users))
	}

	var css []map[string]any
	e.call("GET", org+"/changesets", nil, 200, &css, nil)
	if len(css) == 0 {
		t.Fatal("no changesets after changes")
	}
	var cs map[string]any
	e.call("POST", org+"/changesets/"+css[0]["id"].(string)+"/apply", nil, 200, &cs, nil)
	checkFields(t, "applyChangeset", docs["applyChangeset"], cs)

	var logs []map[string]any
	e.call("GET", org+"/activityLogs", nil, 200, &logs, nil)
	for _, l := range logs {
		checkFields(t, "listActivityLogs[]", map[string]string{"id": "string", "createdAt": "string", "activityType": "string",
			"entityType": "string", "entityId": "string"}, l)
	}

	// Deletes answer 204; the deleted id then 404s.
	for _, d := range []struct{ path string }{
		{org + "/routes/" + rid}, {org + "/policies/" + pid}, {org + "/keyPairs/" + kid}, {org + "/users/" + uid},
	} {
		e.call("DELETE", d.path, nil, 204, nil, nil)
		e.call("DELETE", d.path, nil, 404, nil, nil)
	}
	e.call("GET", org+"/routes/"+rid, nil, 404, nil, nil)
	e.call("GET", org+"/policies/"+pid, nil, 404, nil, nil)
	e.call("GET", org+"/keyPairs/"+kid, nil, 404, nil, nil)
	e.call("GET", "/api/v0/organizations/nope/routes", nil, 404, nil, nil)
	e.call("GET", org+"/clusters/nope", nil, 404, nil, nil)
}
