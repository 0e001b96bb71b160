// Package policy evaluates Pomerium Policy Language (PPL) policies: rules
// of allow/deny holding and/or/not/nor conditionals of criteria, with the
// semantics in shared/PROTOCOL.md (deny wins; no matching allow denies; a
// criterion that needs a user, evaluated with no session, asks to sign in).
//
// A policy comes from YAML (Policy implements yaml.Unmarshaler) or from
// code (AllowAnyOf with the criterion constructors):
//
//	p, err := policy.Parse([]byte(`
//	allow:
//	  or:
//	    - email: {ends_with: "@example.com"}
//	deny:
//	  or:
//	    - groups: {has: contractors}
//	`))
//	switch p.Evaluate(id) {
//	case policy.Allow: // proxy
//	case policy.SignIn: // redirect to sign-in (or 401 for API clients)
//	default: // 403
//	}
package policy

import (
	"fmt"
	"slices"
	"time"
)

func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return a + " " + b
}

// Identity is who is asking. A nil *Identity means "no session".
type Identity struct {
	User   string         // the IdP subject (PPL `user`)
	Email  string         // PPL `email`; `domain` is its part after @
	Groups []string       // PPL `groups`
	Claims map[string]any // every ID token claim (PPL `claim/<name>`)
}

// Decision is the outcome of an evaluation.
type Decision int

const (
	Deny   Decision = iota // policy denies (403)
	Allow                  // policy allows
	SignIn                 // the answer depends on a user and there is no session (302/401)
)

// String names the decision for logs.
func (d Decision) String() string {
	switch d {
	case Deny:
		return "deny"
	case Allow:
		return "allow"
	case SignIn:
		return "sign-in"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Policy is a parsed PPL policy (a list of rules). It unmarshals from YAML
// in every form PPL allows (one rule or a list; criteria with or without
// matchers). The zero Policy denies everything.
type Policy struct {
	rules []rule
	// Explanation and Remediation are shown on the 403 page: why access
	// was denied and what to do about it.
	Explanation, Remediation string
}

// rule is one action with its conditionals; the conditionals are OR-ed.
type rule struct {
	deny  bool
	conds []conditional
}

// conditional is one of and/or/not/nor over a non-empty criteria list.
type conditional struct {
	op       string
	criteria []criterion
}

// criterion is one PPL criterion, already parsed.
type criterion struct {
	name      string // as written, e.g. "claim/groups", for String
	needsUser bool
	// match decides the criterion; id is non-nil when needsUser.
	match func(id *Identity) bool
	// matchReq, when set, decides from the request instead (request.go).
	matchReq func(r *Request) bool
	// matchTime, when set, decides from the request's time.
	matchTime func(now time.Time) bool
}

// IsZero reports whether the policy has no rules (and so denies everything).
func (p Policy) IsZero() bool { return len(p.rules) == 0 }

// Or returns a policy that allows when either allows (deny rules of both
// still win). Used to OR route shortcuts into the route's policy.
func (p Policy) Or(q Policy) Policy {
	// Allow rules are already OR-ed with each other and any deny rule wins,
	// so the union of both rule lists is exactly "p or q, minus both denies".
	rules := make([]rule, 0, len(p.rules)+len(q.rules))
	rules = append(rules, p.rules...)
	rules = append(rules, q.rules...)
	return Policy{rules: rules, Explanation: joinText(p.Explanation, q.Explanation), Remediation: joinText(p.Remediation, q.Remediation)}
}

// Criterion is one criterion built in code, for AllowAnyOf.
type Criterion struct {
	c criterion
}

// Accept matches every request, signed in or not.
func Accept() Criterion {
	return Criterion{criterion{name: "accept", match: func(*Identity) bool { return true }}}
}

// AuthenticatedUser matches any signed-in user.
func AuthenticatedUser() Criterion {
	return Criterion{criterion{name: "authenticated_user", needsUser: true, match: func(*Identity) bool { return true }}}
}

// EmailIs matches the user whose email is exactly email.
func EmailIs(email string) Criterion {
	return Criterion{criterion{name: "email", needsUser: true, match: func(id *Identity) bool { return id.Email == email }}}
}

// UserIs matches the user whose IdP subject is exactly user.
func UserIs(user string) Criterion {
	return Criterion{criterion{name: "user", needsUser: true, match: func(id *Identity) bool { return id.User == user }}}
}

// DomainIs matches users whose email is in domain.
func DomainIs(domain string) Criterion {
	return Criterion{criterion{name: "domain", needsUser: true, match: func(id *Identity) bool { return emailDomain(id.Email) == domain }}}
}

// ClaimHas matches users whose ID token claim name has value (a list claim
// containing it, or a scalar claim equal to it). A number or boolean value
// compares by its spelling, as the claim's own values do.
func ClaimHas(name string, value any) Criterion {
	want := scalarString(value)
	return Criterion{criterion{name: "claim/" + name, needsUser: true, match: func(id *Identity) bool {
		return slices.Contains(claimValues(id, name), want)
	}}}
}

// AllowAnyOf returns a one-rule policy, `allow: {or: cs}`. With no
// criteria it is the zero Policy.
func AllowAnyOf(cs ...Criterion) Policy {
	if len(cs) == 0 {
		return Policy{}
	}
	crit := make([]criterion, len(cs))
	for i, c := range cs {
		crit[i] = c.c
	}
	return Policy{rules: []rule{{conds: []conditional{{op: "or", criteria: crit}}}}}
}
