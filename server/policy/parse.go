package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// Names accepted by the parser, in the order error messages list them.
var (
	conditionalNames = []string{"and", "or", "not", "nor"}
	criterionNames   = []string{"accept", "reject", "authenticated_user", "email", "domain", "user", "groups", "claim/<name>",
		"date", "day_of_week", "time_of_day", "http_method", "http_path", "source_ip", "client_certificate", "cors_preflight", "pomerium_routes"}
	stringMatcherNames = []string{"is", "contains", "starts_with", "ends_with", "in", "not_in"}
	listMatcherNames   = []string{"has", "is", "exclude"}
)

// Parse parses a PPL document (YAML or JSON).
func Parse(data []byte) (Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Policy{}, fmt.Errorf("parsing policy: %w", err)
	}
	if doc.Kind == 0 { // empty document
		return Policy{}, nil
	}
	var p Policy
	if err := p.UnmarshalYAML(&doc); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// UnmarshalYAML parses n as PPL: one rule (`allow:`/`deny:` map) or a list
// of them. Errors name the offending rule, conditional, criterion or
// matcher and what is allowed instead.
func (p *Policy) UnmarshalYAML(n *yaml.Node) error {
	if err := yamlnode.DuplicateKeys(n); err != nil {
		return err
	}
	n = yamlnode.Resolve(n)
	var rules []rule
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			return fmt.Errorf("line %d: a policy is a map of allow/deny rules or a list of them, not %q (e.g. allow: {or: [{email: {is: a@example.com}}]})", n.Line, n.Value)
		}
	case yaml.MappingNode:
		rs, err := parseRules(n)
		if err != nil {
			return err
		}
		rules = rs
	case yaml.SequenceNode:
		for i, item := range n.Content {
			item = yamlnode.Resolve(item)
			if item.Kind != yaml.MappingNode {
				return fmt.Errorf("[%d]: a rule is a map with allow: and/or deny:, got %s", i, yamlnode.KindName(item))
			}
			rs, err := parseRules(item)
			if err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
			rules = append(rules, rs...)
		}
	default:
		return fmt.Errorf("line %d: a policy is a map of allow/deny rules or a list of them, got %s", n.Line, yamlnode.KindName(n))
	}
	p.rules = rules
	p.Explanation, p.Remediation = "", ""
	collect := func(m *yaml.Node) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			v := yamlnode.Resolve(m.Content[i+1])
			switch m.Content[i].Value {
			case "explanation":
				p.Explanation = joinText(p.Explanation, v.Value)
			case "remediation":
				p.Remediation = joinText(p.Remediation, v.Value)
			}
		}
	}
	if n.Kind == yaml.MappingNode {
		collect(n)
	} else if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			collect(yamlnode.Resolve(item))
		}
	}
	return nil
}

// parseRules parses {allow: body, deny: body}: one rule per action.
func parseRules(n *yaml.Node) ([]rule, error) {
	var rules []rule
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlnode.Resolve(n.Content[i+1])
		var deny bool
		switch k.Value {
		case "allow":
		case "deny":
			deny = true
		case "explanation", "remediation": // texts for the 403 page (UnmarshalYAML)
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: want a sentence, got %s", k.Value, yamlnode.KindName(v))
			}
			continue
		default:
			return nil, fmt.Errorf("unknown action %q; allowed: allow, deny (and explanation, remediation)", k.Value)
		}
		conds, err := parseBody(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.Value, err)
		}
		rules = append(rules, rule{deny: deny, conds: conds})
	}
	return rules, nil
}

// parseBody parses {and: [...], or: [...], not: [...], nor: [...]}.
func parseBody(n *yaml.Node) ([]conditional, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a map of %s holding lists of criteria (e.g. or: [{email: a@example.com}]), got %s",
			strings.Join(conditionalNames, "/"), yamlnode.KindName(n))
	}
	var conds []conditional
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlnode.Resolve(n.Content[i+1])
		switch k.Value {
		case "and", "or", "not", "nor":
		case "action": // Pomerium tolerates it; it carries no meaning here
			continue
		default:
			return nil, fmt.Errorf("unknown conditional %q; allowed: %s", k.Value, strings.Join(conditionalNames, ", "))
		}
		crit, err := parseCriteria(v)
		if err != nil {
			return nil, fmt.Errorf("%s%w", k.Value, err)
		}
		if len(crit) > 0 {
			conds = append(conds, conditional{op: k.Value, criteria: crit})
		}
	}
	return conds, nil
}

// parseCriteria parses a list of one-key maps. Errors start with the
// index, so the caller's prefix reads "or[2]: ...".
func parseCriteria(n *yaml.Node) ([]criterion, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf(": want a list of criteria (e.g. - email: a@example.com), got %s", yamlnode.KindName(n))
	}
	var out []criterion
	for i, item := range n.Content {
		item = yamlnode.Resolve(item)
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			return nil, fmt.Errorf("[%d]: a criterion is a map with exactly one key (one of %s)", i, strings.Join(criterionNames, ", "))
		}
		c, err := parseCriterion(item.Content[0].Value, yamlnode.Resolve(item.Content[1]))
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseCriterion(key string, v *yaml.Node) (criterion, error) {
	name, sub, hasSub := strings.Cut(key, "/")
	if hasSub && name != "claim" {
		return criterion{}, fmt.Errorf("criterion %q takes no /sub-path (only claim/<name> does)", key)
	}
	if rc, ok, err := parseRequestCriterion(key, v); ok {
		return rc, err
	}
	c := criterion{name: key, needsUser: true}
	switch name {
	case "accept", "reject":
		if err := wantTrue(key, v); err != nil {
			return criterion{}, err
		}
		result := name == "accept"
		c.needsUser = false
		c.match = func(*Identity) bool { return result }
	case "authenticated_user":
		if err := wantTrue(key, v); err != nil {
			return criterion{}, err
		}
		c.match = func(*Identity) bool { return true }
	case "email", "domain", "user":
		m, err := parseStringMatcher(v)
		if err != nil {
			return criterion{}, fmt.Errorf("%s: %w", key, err)
		}
		get := map[string]func(*Identity) string{
			"email":  func(id *Identity) string { return id.Email },
			"domain": func(id *Identity) string { return emailDomain(id.Email) },
			"user":   func(id *Identity) string { return id.User },
		}[name]
		c.match = func(id *Identity) bool { return m(get(id)) }
	case "groups":
		m, err := parseListMatcher(v)
		if err != nil {
			return criterion{}, fmt.Errorf("%s: %w", key, err)
		}
		c.match = func(id *Identity) bool { return m(id.Groups) }
	case "claim":
		if sub == "" {
			return criterion{}, fmt.Errorf("claim needs the claim's name: claim/<name>, e.g. claim/groups: admins")
		}
		m, err := parseListMatcher(v)
		if err != nil {
			return criterion{}, fmt.Errorf("%s: %w", key, err)
		}
		c.match = func(id *Identity) bool { return m(claimValues(id, sub)) }
	default:
		return criterion{}, fmt.Errorf("unknown or unsupported criterion %q; allowed: %s", key, strings.Join(criterionNames, ", "))
	}
	return c, nil
}

// wantTrue accepts `accept: true` and the bare `accept:`; anything else
// (notably `false`, which would read as the opposite) is an error.
func wantTrue(key string, v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || (v.Tag == "!!bool" && strings.EqualFold(v.Value, "true"))) {
		return nil
	}
	return fmt.Errorf("%s: want true (write `- %s: true`)", key, key)
}

// parseStringMatcher parses a scalar (is) or a map of string matchers, all
// of which must hold.
func parseStringMatcher(v *yaml.Node) (func(string) bool, error) {
	if v.Kind == yaml.ScalarNode {
		want, err := scalar(v)
		if err != nil {
			return nil, err
		}
		return func(s string) bool { return s == want }, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a string or a map of matchers (%s), got %s; for several values use in: [...]",
			strings.Join(stringMatcherNames, ", "), yamlnode.KindName(v))
	}
	var ms []func(string) bool
	for i := 0; i+1 < len(v.Content); i += 2 {
		op, arg := v.Content[i].Value, yamlnode.Resolve(v.Content[i+1])
		var m func(string) bool
		switch op {
		case "in", "not_in":
			list, err := scalarList(arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			neg := op == "not_in"
			m = func(s string) bool { return slices.Contains(list, s) != neg }
		case "is", "not", "contains", "starts_with", "ends_with":
			want, err := scalar(arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			m = map[string]func(string) bool{
				"is":          func(s string) bool { return s == want },
				"not":         func(s string) bool { return s != want }, // Pomerium's spelling of "is not"
				"contains":    func(s string) bool { return strings.Contains(s, want) },
				"starts_with": func(s string) bool { return strings.HasPrefix(s, want) },
				"ends_with":   func(s string) bool { return strings.HasSuffix(s, want) },
			}[op]
		default:
			return nil, fmt.Errorf("unknown string matcher %q; allowed: %s", op, strings.Join(stringMatcherNames, ", "))
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, errors.New("empty matcher map; want one of " + strings.Join(stringMatcherNames, ", "))
	}
	return func(s string) bool {
		for _, m := range ms {
			if !m(s) {
				return false
			}
		}
		return true
	}, nil
}

// parseListMatcher parses a scalar (has) or a map of list matchers, all of
// which must hold.
func parseListMatcher(v *yaml.Node) (func([]string) bool, error) {
	if v.Kind == yaml.ScalarNode {
		want, err := scalar(v)
		if err != nil {
			return nil, err
		}
		return func(l []string) bool { return slices.Contains(l, want) }, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a string or a map of matchers (%s), got %s; for several values use one criterion each under or:",
			strings.Join(listMatcherNames, ", "), yamlnode.KindName(v))
	}
	var ms []func([]string) bool
	err := scalarPairs(v, func(op, want string) error {
		switch op {
		case "has":
			ms = append(ms, func(l []string) bool { return slices.Contains(l, want) })
		case "is": // the list is exactly [want]
			ms = append(ms, func(l []string) bool { return len(l) == 1 && l[0] == want })
		case "exclude":
			ms = append(ms, func(l []string) bool { return !slices.Contains(l, want) })
		default:
			return fmt.Errorf("unknown list matcher %q; allowed: %s", op, strings.Join(listMatcherNames, ", "))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, errors.New("empty matcher map; want one of " + strings.Join(listMatcherNames, ", "))
	}
	return func(l []string) bool {
		for _, m := range ms {
			if !m(l) {
				return false
			}
		}
		return true
	}, nil
}

func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", fmt.Errorf("want a single value, got %s", yamlnode.KindName(n))
	}
	return n.Value, nil
}

func scalarList(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("want a list of values, got %s", yamlnode.KindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		s, err := scalar(yamlnode.Resolve(e))
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// scalarPairs calls each with every key of the mapping v and its value,
// which must be a single value (the error names the key). each's error
// is returned as it is.
func scalarPairs(v *yaml.Node, each func(k, s string) error) error {
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, arg := v.Content[i].Value, yamlnode.Resolve(v.Content[i+1])
		s, err := scalar(arg)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if err := each(k, s); err != nil {
			return err
		}
	}
	return nil
}
