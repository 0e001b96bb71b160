// Package policy evaluates Pomerium Policy Language (PPL) policies: rules
// of allow/deny holding and/or/not/nor conditionals of criteria, with the
// semantics in shared/PROTOCOL.md (deny wins; no matching allow denies; a
// criterion that needs a user, evaluated with no session, asks to sign in).
package policy

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

// Policy is a parsed PPL policy (a list of rules). It unmarshals from YAML
// in every form PPL allows (one rule or a list; criteria with or without
// matchers). The zero Policy denies everything.
type Policy struct{}

// Evaluate decides for id (nil: no session).
func (p Policy) Evaluate(id *Identity) Decision { panic("not implemented") }

// Or returns a policy that allows when either allows (deny rules of both
// still win). Used to OR route shortcuts into the route's policy.
func (p Policy) Or(q Policy) Policy { panic("not implemented") }
