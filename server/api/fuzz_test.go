package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/porthole-dev/porthole/server/store"
)

// FuzzRouteBody: any body is either refused with a 4xx *Error or turns
// into a route the server could serve; nothing panics.
func FuzzRouteBody(f *testing.F) {
	for _, s := range []string{
		`{"namespaceId":"default","name":"r","from":"https://a.localhost","to":["http://127.0.0.1:9"],"policyIds":[]}`,
		`{"name":"t","from":"tcp+https://127.0.0.1:8443/db.internal:5432","to":["tcp://127.0.0.1:5432"],"timeout":"1d2h"}`,
		`{"name":"x","from":"https://a.localhost","redirect":{"httpsRedirect":true},"healthCheck":{"timeout":"1s"}}`,
		`{"name":"x","from":"https://a.localhost","to":["http://b"],"rewriteResponseHeaders":[{"header":"Location","prefix":"http://b/","value":"/"}]}`,
		`{"name":"\u202e","from":"https://a.localhost\u0000","to":["http://b\r\nX: y"]}`,
		`{"timeout":"99999999999999999999h"}`, `[]`, `null`, `{"policyIds":["a","a"]}`,
	} {
		f.Add([]byte(s))
	}
	pol := &store.Policy{Meta: store.Meta{ID: "p1"}, Name: "p", PPL: `{"allow":{"or":[{"accept":true}]}}`, Enforced: true}
	deps := routeDeps{policies: map[string]*store.Policy{"p1": pol}, keyPairs: map[string]*store.KeyPair{}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var spec RouteSpec
		if err := decodeJSON(body, &spec); err != nil {
			wantClientError(t, err)
			return
		}
		rt, err := compileRoute(&spec, deps)
		if err != nil {
			wantClientError(t, err)
			return
		}
		if rt.FromURL == nil || rt.Type == "" {
			t.Fatalf("compiled route without from: %+v", rt)
		}
	})
}

// FuzzPolicyBody: a PPL is stored only when it parses.
func FuzzPolicyBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"p","ppl":{"allow":{"and":[{"email":{"is":"a@b"}}]}}}`,
		`{"name":"p","ppl":[{"deny":{"or":[{"groups":{"has":"x"}}]}}]}`,
		`{"name":"p","ppl":{"allow":{"and":[{"claim/":{"is":1}}]}}}`,
		`{"name":"p","ppl":"allow"}`, `{"name":"p","ppl":{"allow":{"and":[{"date":{"after":"2020-01-01"}}]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var spec PolicySpec
		if err := decodeJSON(body, &spec); err != nil {
			wantClientError(t, err)
			return
		}
		ppl, err := spec.validate()
		if err != nil {
			wantClientError(t, err)
			return
		}
		if !json.Valid([]byte(ppl)) {
			t.Fatalf("stored PPL is not JSON: %q", ppl)
		}
		// What was stored compiles into a route.
		deps := routeDeps{policies: map[string]*store.Policy{"p": {Meta: store.Meta{ID: "p"}, PPL: ppl}}}
		if _, err := compileRoute(&RouteSpec{Name: "r", From: "https://a.localhost", To: []string{"http://b"}, PolicyIDs: []string{"p"}}, deps); err != nil {
			t.Fatalf("a policy that validated breaks a route: %v (ppl %s)", err, ppl)
		}
	})
}

// FuzzSettingsPatch: no patch panics or reaches beyond top-level fields.
func FuzzSettingsPatch(f *testing.F) {
	f.Add([]byte(`[{"op":"replace","path":"/logLevel","value":"debug"}]`))
	f.Add([]byte(`[{"op":"move","from":"/address","path":"/logLevel"},{"op":"test","path":"/logLevel","value":null}]`))
	f.Add([]byte(`[{"op":"add","path":"/a/b","value":1}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ops []jsonPatchOp
		if err := decodeJSON(body, &ops); err != nil {
			wantClientError(t, err)
			return
		}
		doc, err := toMap(Settings{LogLevel: "info", Address: testAddr})
		if err != nil {
			t.Fatal(err)
		}
		n := len(doc)
		for _, op := range ops {
			if applyPatchOp(doc, op) != nil {
				return
			}
		}
		if len(doc) != n {
			t.Fatalf("patch added fields: %d -> %d", n, len(doc))
		}
	})
}

func wantClientError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 || e.Message == "" {
		t.Fatalf("error %v (%T) is not a 4xx API error with a message", err, err)
	}
	if e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d for a bad body; want 400", e.Status)
	}
}
