package session

import (
	"fmt"
	"strings"
)

// UserInfo is the user part of the X-Pomerium-Jwt-Assertion, shaped as
// Pomerium shapes it: sub, user, email, groups (a list, never null), sid
// and name. Pomerium serves the same map (the assertion minus iss, aud,
// exp, iat and jti) as JSON at /.pomerium/user.
func (c *Claims) UserInfo() map[string]any {
	groups := c.Groups
	if groups == nil {
		groups = []string{}
	}
	return map[string]any{
		"sub": c.Subject, "user": c.Subject, "email": c.Email, "groups": groups,
		"sid": c.SessionID, "name": claimString(c.Claims["name"]),
	}
}

// claimString is an ID token claim as Pomerium puts it into the
// assertion: scalars as text, lists comma-joined, anything else empty.
func claimString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			switch e.(type) {
			case string, float64, bool, int, int64:
				parts = append(parts, fmt.Sprint(e))
			}
		}
		return strings.Join(parts, ",")
	case float64, bool, int, int64:
		return fmt.Sprint(t)
	}
	return ""
}
