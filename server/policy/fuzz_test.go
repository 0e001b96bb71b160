package policy

import "testing"

// FuzzParse checks that no input makes the parser or the evaluator panic,
// and that whatever parses evaluates to one of the three decisions.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		``, `allow: {or: [{accept: true}]}`,
		`[{allow: {and: [{email: {in: [a, b]}}, {groups: {has: x, exclude: y}}]}}, {deny: {nor: [{claim/x: 1}]}}]`,
		`{allow: {not: [{domain: {ends_with: .org}}]}, deny: {or: [{user: u}]}}`,
		`allow: {or: [{claim/a: {is: b}}, {authenticated_user: }]}`,
		`- allow:\n    or:\n      - email: &a x\n      - user: *a\n`,
		`allow: {and: [{http_method: {in: [GET]}}, {source_ip: [10.0.0.0/8, "::1"]}, {time_of_day: {after: "9:00", before: "5 pm", timezone: Asia/Tokyo}}]}`,
		`{allow: {or: [{day_of_week: fri-mon}, {date: {after: "2020-01-01T00:00:00Z"}}, {client_certificate: {san_dns: {ends_with: .x}}}]}, explanation: e, remediation: r}`,
		`deny: {nor: [{cors_preflight: true}, {pomerium_routes: true}, {http_path: {starts_with: /a}}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		reqs := []*Request{nil, {}, {Method: "GET", Path: "/a", SourceIP: []byte{10, 0, 0, 1}, CORSPreflight: true}}
		for _, id := range []*Identity{nil, {}, {Email: "a@b", Groups: []string{"x"}, Claims: map[string]any{"a": []any{"b", 1.0}, "x": 1.0}}} {
			for _, req := range reqs {
				switch d := p.EvaluateRequest(id, req); d {
				case Allow, Deny, SignIn:
				default:
					t.Fatalf("EvaluateRequest = %v; want allow, deny or sign-in", d)
				}
			}
		}
	})
}

// FuzzEvaluate checks PPL's laws on any parsed policy and any identity:
// a signed-in user always gets a definite answer, a deny rule that
// matches everyone wins over anything, adding allow rules never takes an
// Allow away, and the same question gets the same answer.
func FuzzEvaluate(f *testing.F) {
	for _, seed := range []struct{ doc, email, group, claim string }{
		{`allow: {or: [{email: {is: a@b.c}}]}`, "a@b.c", "g", "v"},
		{`allow: {and: [{domain: {is: b.c}}, {groups: {has: admins}}]}`, "x@b.c", "admins", ""},
		{`[{allow: {or: [{accept: true}]}}, {deny: {or: [{claim/x: v}]}}]`, "", "", "v"},
		{`allow: {not: [{user: {is: u}}]}`, "\u202e@\x00", "", "\xff"},
		{`deny: {nor: [{authenticated_user: true}]}`, "a@b", "a,b", "1"},
	} {
		f.Add(seed.doc, seed.email, seed.group, seed.claim)
	}
	denyAll, err := Parse([]byte(`deny: {or: [{accept: true}]}`))
	if err != nil {
		f.Fatal(err)
	}
	allowAll := AllowAnyOf(Accept())
	f.Fuzz(func(t *testing.T, doc, email, group, claim string) {
		p, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		ids := []*Identity{nil, {User: email, Email: email, Groups: []string{group}, Claims: map[string]any{"x": claim, "groups": []any{group}}}}
		for _, id := range ids {
			d := p.Evaluate(id)
			if again := p.Evaluate(id); again != d {
				t.Fatalf("Evaluate gave %v then %v", d, again)
			}
			if id != nil && d == SignIn {
				t.Fatalf("signed-in user got %v; want allow or deny", d)
			}
			if got := p.Or(denyAll).Evaluate(id); got != Deny {
				t.Fatalf("with deny-everyone added: got %v; want deny", got)
			}
			if got := p.Or(allowAll).Evaluate(id); d == Allow && got != Allow {
				t.Fatalf("allowed, then with one more allow rule: %v", got)
			}
		}
	})
}
