package policy

import (
	"strings"
	"testing"
)

// The identities every truth-table row is evaluated for, in this order.
var (
	idAnon  *Identity
	idDev   = &Identity{User: "u-dev", Email: "dev@example.com", Groups: []string{"admins"}, Claims: map[string]any{"groups": []any{"admins", "staff"}, "family_name": "Doe", "level": 3.0, "email_verified": true}}
	idGuest = &Identity{User: "u-guest", Email: "guest@example.com"}
	idEve   = &Identity{User: "u-eve", Email: "eve@evil.org", Groups: []string{"staff", "admins"}}
	idNames = []string{"anon", "dev", "guest", "eve"}
	ids     = []*Identity{idAnon, idDev, idGuest, idEve}
)

const (
	D = Deny
	A = Allow
	S = SignIn
)

func TestEvaluateTruthTable(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   [4]Decision // anon, dev, guest, eve
	}{
		{"empty policy denies", ``, [4]Decision{D, D, D, D}},
		{"accept", `allow: {or: [{accept: true}]}`, [4]Decision{A, A, A, A}},
		{"accept bare", "allow:\n  or:\n    - accept:\n", [4]Decision{A, A, A, A}},
		{"reject", `allow: {or: [{reject: true}]}`, [4]Decision{D, D, D, D}},
		{"authenticated_user", `allow: {or: [{authenticated_user: true}]}`, [4]Decision{S, A, A, A}},
		{"email scalar is", `allow: {or: [{email: dev@example.com}]}`, [4]Decision{S, A, D, D}},
		{"email is", `allow: {or: [{email: {is: dev@example.com}}]}`, [4]Decision{S, A, D, D}},
		{"email ends_with", `allow: {or: [{email: {ends_with: "@example.com"}}]}`, [4]Decision{S, A, A, D}},
		{"email starts_with", `allow: {or: [{email: {starts_with: "dev@"}}]}`, [4]Decision{S, A, D, D}},
		{"email contains", `allow: {or: [{email: {contains: uest}}]}`, [4]Decision{S, D, A, D}},
		{"email in", `allow: {or: [{email: {in: [dev@example.com, guest@example.com]}}]}`, [4]Decision{S, A, A, D}},
		{"email not_in", `allow: {or: [{email: {not_in: [dev@example.com]}}]}`, [4]Decision{S, D, A, A}},
		{"email not (Pomerium spelling)", `allow: {or: [{email: {not: dev@example.com}}]}`, [4]Decision{S, D, A, A}},
		{"several string matchers all hold", `allow: {or: [{email: {ends_with: "@example.com", starts_with: g}}]}`, [4]Decision{S, D, A, D}},
		{"domain scalar", `allow: {or: [{domain: example.com}]}`, [4]Decision{S, A, A, D}},
		{"domain is", `allow: {or: [{domain: {is: evil.org}}]}`, [4]Decision{S, D, D, A}},
		{"domain ends_with", `allow: {or: [{domain: {ends_with: .org}}]}`, [4]Decision{S, D, D, A}},
		{"user", `allow: {or: [{user: u-dev}]}`, [4]Decision{S, A, D, D}},
		{"user in", `allow: {or: [{user: {in: [u-guest, u-eve]}}]}`, [4]Decision{S, D, A, A}},
		{"groups scalar has", `allow: {or: [{groups: admins}]}`, [4]Decision{S, A, D, A}},
		{"groups has", `allow: {or: [{groups: {has: admins}}]}`, [4]Decision{S, A, D, A}},
		{"groups is: exactly that one group", `allow: {or: [{groups: {is: admins}}]}`, [4]Decision{S, A, D, D}},
		{"groups exclude", `allow: {or: [{groups: {exclude: admins}}]}`, [4]Decision{S, D, A, D}},
		{"groups has and exclude", `allow: {or: [{groups: {has: admins, exclude: staff}}]}`, [4]Decision{S, A, D, D}},
		{"claim scalar", `allow: {or: [{claim/family_name: Doe}]}`, [4]Decision{S, A, D, D}},
		{"claim list has", `allow: {or: [{claim/groups: staff}]}`, [4]Decision{S, A, D, D}},
		{"claim number", `allow: {or: [{claim/level: 3}]}`, [4]Decision{S, A, D, D}},
		{"claim bool", `allow: {or: [{claim/email_verified: true}]}`, [4]Decision{S, A, D, D}},
		{"claim is on a two-value list", `allow: {or: [{claim/groups: {is: staff}}]}`, [4]Decision{S, D, D, D}},
		{"claim exclude on a missing claim", `allow: {or: [{claim/missing: {exclude: x}}]}`, [4]Decision{S, A, A, A}},
		{"and: all", `allow: {and: [{authenticated_user: true}, {groups: admins}]}`, [4]Decision{S, A, D, A}},
		{"and: accept and reject", `allow: {and: [{accept: true}, {reject: true}]}`, [4]Decision{D, D, D, D}},
		{"and: reject decides without a user", `allow: {and: [{reject: true}, {email: dev@example.com}]}`, [4]Decision{D, D, D, D}},
		{"or: accept decides without a user", `allow: {or: [{accept: true}, {email: dev@example.com}]}`, [4]Decision{A, A, A, A}},
		{"or: reject or email", `allow: {or: [{reject: true}, {email: dev@example.com}]}`, [4]Decision{S, A, D, D}},
		{"not: none match", `allow: {not: [{email: dev@example.com}]}`, [4]Decision{S, D, A, A}},
		{"not reject", `allow: {not: [{reject: true}]}`, [4]Decision{A, A, A, A}},
		{"not accept", `allow: {not: [{accept: true}]}`, [4]Decision{D, D, D, D}},
		{"not: accept decides without a user", `allow: {not: [{accept: true}, {email: dev@example.com}]}`, [4]Decision{D, D, D, D}},
		{"not: two criteria", `allow: {not: [{domain: evil.org}, {groups: admins}]}`, [4]Decision{S, D, A, D}},
		{"nor: not all match", `allow: {nor: [{email: dev@example.com}, {groups: admins}]}`, [4]Decision{S, D, A, A}},
		{"nor: accept and reject", `allow: {nor: [{accept: true}, {reject: true}]}`, [4]Decision{A, A, A, A}},
		{"nor: accept alone", `allow: {nor: [{accept: true}]}`, [4]Decision{D, D, D, D}},
		{"nor: reject decides without a user", `allow: {nor: [{reject: true}, {email: dev@example.com}]}`, [4]Decision{A, A, A, A}},
		{"conditionals in one rule are OR-ed", `allow: {and: [{email: dev@example.com}], or: [{domain: evil.org}]}`, [4]Decision{S, A, D, A}},
		{"and + not OR-ed", `allow: {and: [{groups: admins}, {domain: example.com}], not: [{authenticated_user: true}]}`, [4]Decision{S, A, D, D}},
		{"deny wins over allow", `{allow: {or: [{accept: true}]}, deny: {or: [{email: guest@example.com}]}}`, [4]Decision{S, A, D, A}},
		{"deny needs allow too", `{allow: {or: [{reject: true}]}, deny: {or: [{email: guest@example.com}]}}`, [4]Decision{D, D, D, D}},
		{"deny group", `{allow: {or: [{authenticated_user: true}]}, deny: {or: [{groups: admins}]}}`, [4]Decision{S, D, A, D}},
		{"deny only", `deny: {or: [{reject: true}]}`, [4]Decision{D, D, D, D}},
		{"deny accept", `{allow: {or: [{accept: true}]}, deny: {or: [{accept: true}]}}`, [4]Decision{D, D, D, D}},
		{"deny the anonymous on a public route", `{allow: {or: [{accept: true}]}, deny: {not: [{authenticated_user: true}]}}`, [4]Decision{S, A, A, A}},
		{"deny with and", `{allow: {or: [{domain: example.com}, {domain: evil.org}]}, deny: {and: [{groups: admins}, {domain: evil.org}]}}`, [4]Decision{S, A, A, D}},
		{"list of rules: allows OR-ed", `[{allow: {or: [{email: dev@example.com}]}}, {allow: {or: [{email: guest@example.com}]}}]`, [4]Decision{S, A, A, D}},
		{"list of rules: deny in another item wins", `[{allow: {or: [{accept: true}]}}, {deny: {or: [{domain: evil.org}]}}]`, [4]Decision{S, A, A, D}},
		{"block YAML", "- allow:\n    or:\n      - email:\n          is: dev@example.com\n      - groups:\n          has: admins\n- deny:\n    or:\n      - user: u-eve\n", [4]Decision{S, A, D, D}},
		{"JSON", `{"allow":{"or":[{"email":{"is":"dev@example.com"}}]}}`, [4]Decision{S, A, D, D}},
		{"empty body", `allow: {}`, [4]Decision{D, D, D, D}},
		{"empty and list", `allow: {and: []}`, [4]Decision{D, D, D, D}},
		{"null body", "- allow:\n", [4]Decision{D, D, D, D}},
		{"anchors and aliases", "allow:\n  or:\n    - email: &who dev@example.com\n    - user: *who\n", [4]Decision{S, A, D, D}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.policy))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.policy, err)
			}
			for i, id := range ids {
				if got := p.Evaluate(id); got != tt.want[i] {
					t.Errorf("Evaluate(%s) = %v; want %v", idNames[i], got, tt.want[i])
				}
				if got, want := p.CouldAllow(id), tt.want[i] == Allow; got != want {
					t.Errorf("CouldAllow(%s) = %v; want %v", idNames[i], got, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   []string // substrings of the error
	}{
		{"unknown criterion", `allow: {or: [{emial: x}]}`, []string{`allow: or[0]: unknown or unsupported criterion "emial"`, "allowed: accept, reject, authenticated_user"}},
		{"bad day_of_week", `allow: {or: [{day_of_week: someday}]}`, []string{`day_of_week: want days like mon`}},
		{"unknown conditional", `allow: {xor: [{accept: true}]}`, []string{`allow: unknown conditional "xor"; allowed: and, or, not, nor`}},
		{"unknown action", `permit: {or: [{accept: true}]}`, []string{`unknown action "permit"; allowed: allow, deny`}},
		{"unknown string matcher", `allow: {or: [{email: {equals: x}}]}`, []string{`or[0]: email: unknown string matcher "equals"; allowed: is, contains, starts_with, ends_with, in, not_in`}},
		{"unknown list matcher", `allow: {or: [{groups: {contains: x}}]}`, []string{`groups: unknown list matcher "contains"; allowed: has, is, exclude`}},
		{"two keys in a criterion", `allow: {and: [{email: x, domain: y}]}`, []string{"and[0]", "exactly one key"}},
		{"accept false", `allow: {or: [{accept: false}]}`, []string{"accept: want true"}},
		{"authenticated_user string", `allow: {or: [{authenticated_user: yes}]}`, []string{"authenticated_user: want true"}},
		{"claim without name", `allow: {or: [{claim: x}]}`, []string{"claim/<name>"}},
		{"sub-path on email", `allow: {or: [{email/x: y}]}`, []string{`"email/x" takes no /sub-path`}},
		{"in wants a list", `allow: {or: [{email: {in: x}}]}`, []string{"in: want a list"}},
		{"is wants a value", `allow: {or: [{email: {is: [a]}}]}`, []string{"is: want a single value"}},
		{"list value for email", `allow: {or: [{email: [a, b]}]}`, []string{"use in: [...]"}},
		{"list value for groups", `allow: {or: [{groups: [a, b]}]}`, []string{"one criterion each"}},
		{"empty matcher map", `allow: {or: [{email: {}}]}`, []string{"empty matcher map"}},
		{"allow holding a list", `allow: [{email: x}]`, []string{"allow: want a map of and/or/not/nor"}},
		{"conditional holding a map", `allow: {or: {email: x}}`, []string{"or: want a list of criteria"}},
		{"scalar policy", `42`, []string{"a policy is a map of allow/deny rules"}},
		{"list of scalars", `[42]`, []string{"[0]: a rule is a map"}},
		{"error in a later list item", `[{allow: {or: [{accept: true}]}}, {deny: {or: [{nope: 1}]}}]`, []string{`[1]: deny: or[0]: unknown or unsupported criterion "nope"`}},
		{"bad YAML", `allow: {or: [`, []string{"parsing policy"}},
		{"action twice", "allow: {or: [{email: a}]}\nallow: {or: [{accept: true}]}\n", []string{`line 2: key "allow" set twice`}},
		{"matcher twice", "allow: {or: [{email: {is: a, is: b}}]}\n", []string{`key "is" set twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.policy))
			if err == nil {
				t.Fatalf("Parse(%q) = nil error; want one containing %q", tt.policy, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) error = %q; want it to contain %q", tt.policy, err, w)
				}
			}
		})
	}
}

func TestZeroPolicyDenies(t *testing.T) {
	var p Policy
	if !p.IsZero() {
		t.Errorf("IsZero() = false; want true")
	}
	for i, id := range ids {
		if got := p.Evaluate(id); got != Deny {
			t.Errorf("zero Policy Evaluate(%s) = %v; want deny", idNames[i], got)
		}
	}
}

func TestOr(t *testing.T) {
	mustParse := func(s string) Policy {
		t.Helper()
		p, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		return p
	}
	tests := []struct {
		name string
		p, q Policy
		want [4]Decision
	}{
		{"zero or zero", Policy{}, Policy{}, [4]Decision{D, D, D, D}},
		{"policy or zero", mustParse(`allow: {or: [{email: dev@example.com}]}`), Policy{}, [4]Decision{S, A, D, D}},
		{"zero or shortcuts", Policy{}, AllowAnyOf(EmailIs("guest@example.com")), [4]Decision{S, D, A, D}},
		{"allows are OR-ed", mustParse(`allow: {or: [{email: dev@example.com}]}`), AllowAnyOf(EmailIs("guest@example.com")), [4]Decision{S, A, A, D}},
		{"deny of p wins over q's allow", mustParse(`deny: {or: [{domain: evil.org}]}`), AllowAnyOf(AuthenticatedUser()), [4]Decision{S, A, A, D}},
		{"deny of q wins over p's allow", AllowAnyOf(Accept()), mustParse(`deny: {or: [{groups: admins}]}`), [4]Decision{S, D, A, D}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Or(tt.q)
			for i, id := range ids {
				if d := got.Evaluate(id); d != tt.want[i] {
					t.Errorf("Evaluate(%s) = %v; want %v", idNames[i], d, tt.want[i])
				}
			}
		})
	}
}

func TestBuilders(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want [4]Decision
	}{
		{"no criteria", AllowAnyOf(), [4]Decision{D, D, D, D}},
		{"Accept", AllowAnyOf(Accept()), [4]Decision{A, A, A, A}},
		{"AuthenticatedUser", AllowAnyOf(AuthenticatedUser()), [4]Decision{S, A, A, A}},
		{"EmailIs", AllowAnyOf(EmailIs("dev@example.com")), [4]Decision{S, A, D, D}},
		{"UserIs", AllowAnyOf(UserIs("u-guest")), [4]Decision{S, D, A, D}},
		{"DomainIs", AllowAnyOf(DomainIs("evil.org")), [4]Decision{S, D, D, A}},
		{"ClaimHas list", AllowAnyOf(ClaimHas("groups", "staff")), [4]Decision{S, A, D, D}},
		{"ClaimHas scalar", AllowAnyOf(ClaimHas("family_name", "Doe")), [4]Decision{S, A, D, D}},
		{"ClaimHas number", AllowAnyOf(ClaimHas("level", "3")), [4]Decision{S, A, D, D}},
		{"several OR-ed", AllowAnyOf(EmailIs("guest@example.com"), DomainIs("evil.org")), [4]Decision{S, D, A, A}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, id := range ids {
				if got := tt.p.Evaluate(id); got != tt.want[i] {
					t.Errorf("Evaluate(%s) = %v; want %v", idNames[i], got, tt.want[i])
				}
			}
		})
	}
}

func TestEmailDomain(t *testing.T) {
	tests := map[string]string{
		"a@example.com":   "example.com",
		"a@b@example.com": "example.com",
		"no-at":           "",
		"":                "",
		"trailing@":       "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := emailDomain(in); got != want {
				t.Errorf("emailDomain(%q) = %q; want %q", in, got, want)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{Deny: "deny", Allow: "allow", SignIn: "sign-in", Decision(7): "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q; want %q", int(d), got, want)
		}
	}
}
