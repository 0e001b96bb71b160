package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// tri is a three-valued truth: a criterion that needs a user cannot be
// decided without a session, and that "unknown" propagates (Kleene logic)
// until it either stops mattering or becomes SignIn.
type tri int8

const (
	no tri = iota
	yes
	unknown
)

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// Evaluate decides for id (nil: no session) without a request: request
// criteria match (see Request). The portal lists routes with it.
func (p Policy) Evaluate(id *Identity) Decision { return p.EvaluateRequest(id, nil) }

// EvaluateRequest decides for id making req.
func (p Policy) EvaluateRequest(id *Identity, req *Request) Decision {
	allow, deny := no, no
	for _, r := range p.rules {
		v := r.eval(id, req)
		if r.deny {
			deny = or2(deny, v)
		} else {
			allow = or2(allow, v)
		}
	}
	switch {
	case deny == yes:
		return Deny
	case allow == no:
		return Deny
	case deny == unknown || allow == unknown:
		// Signing in could change the answer either way.
		return SignIn
	}
	return Allow
}

// CouldAllow reports whether the policy allows id (nil: no session), for
// listing routes in the portal.
func (p Policy) CouldAllow(id *Identity) bool { return p.Evaluate(id) == Allow }

func or2(a, b tri) tri {
	switch {
	case a == yes || b == yes:
		return yes
	case a == unknown || b == unknown:
		return unknown
	}
	return no
}

func (r rule) eval(id *Identity, req *Request) tri {
	out := no
	for _, c := range r.conds {
		out = or2(out, c.eval(id, req))
		if out == yes {
			break
		}
	}
	return out
}

func (c conditional) eval(id *Identity, req *Request) tri {
	var sawYes, sawNo, sawUnknown bool
	for _, cr := range c.criteria {
		switch cr.eval(id, req) {
		case yes:
			sawYes = true
		case no:
			sawNo = true
		default:
			sawUnknown = true
		}
	}
	switch c.op {
	case "and": // all match
		if sawNo {
			return no
		}
	case "or": // any matches
		if sawYes {
			return yes
		}
	case "not": // none matches
		if sawYes {
			return no
		}
	case "nor": // not all match
		if sawNo {
			return yes
		}
	default:
		panic(fmt.Sprintf("policy: unknown conditional %q", c.op))
	}
	if sawUnknown {
		return unknown
	}
	switch c.op {
	case "and", "not":
		return yes
	}
	return no
}

func (c criterion) eval(id *Identity, req *Request) tri {
	switch {
	case c.matchTime != nil:
		return boolTri(c.matchTime(req.now()))
	case c.matchReq != nil:
		if req == nil {
			return yes
		}
		return boolTri(c.matchReq(req))
	}
	if c.needsUser && id == nil {
		return unknown
	}
	return boolTri(c.match(id))
}

// emailDomain is the part of email after its last @, "" without one.
func emailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return email[i+1:]
}

// claimValues is claim name as a list of strings: a scalar claim is a list
// of one, a missing claim an empty list. Numbers and booleans compare by
// their YAML/JSON spelling, so `claim/level: 3` matches a JSON 3.
func claimValues(id *Identity, name string) []string {
	v, ok := id.Claims[name]
	if !ok || v == nil {
		return nil
	}
	switch t := v.(type) {
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, scalarString(e))
		}
		return out
	}
	return []string{scalarString(v)}
}

func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
