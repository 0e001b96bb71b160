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
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		for _, id := range []*Identity{nil, {}, {Email: "a@b", Groups: []string{"x"}, Claims: map[string]any{"a": []any{"b", 1.0}, "x": 1.0}}} {
			switch d := p.Evaluate(id); d {
			case Allow, Deny, SignIn:
			default:
				t.Fatalf("Evaluate = %v; want allow, deny or sign-in", d)
			}
		}
	})
}
