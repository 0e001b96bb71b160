package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/internal/editdist"
	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// fieldFn decodes one key's value node.
type fieldFn func(n *yaml.Node) error

// decodeMap runs fields[key] for every key of the mapping n. Unknown and
// repeated keys are errors; the error names the key and, for unknown ones,
// the allowed keys in the order given.
func decodeMap(n *yaml.Node, order []string, fields map[string]fieldFn) error {
	return decodeMapWith(n, order, fields, nil)
}

// decodeMapWith is decodeMap where the keys in unsupported (Pomerium keys
// this server cannot honour) are refused with their reason.
func decodeMapWith(n *yaml.Node, order []string, fields map[string]fieldFn, unsupported map[string]string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("want a map of settings (key: value lines), got %s", yamlnode.KindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlnode.Resolve(n.Content[i+1])
		if k.Value == "<<" {
			return fmt.Errorf("line %d: YAML merge keys (<<) are not supported; write the settings out", k.Line)
		}
		f, ok := fields[k.Value]
		if why, no := unsupported[k.Value]; !ok && no {
			return fmt.Errorf("not supported by pomerium-server: %s (%s)", k.Value, why)
		}
		if !ok {
			if near := nearestKey(k.Value, order); near != "" {
				return fmt.Errorf("unknown key %q at line %d; did you mean %q? (allowed: %s)", k.Value, k.Line, near, strings.Join(order, ", "))
			}
			return fmt.Errorf("unknown key %q at line %d; allowed: %s", k.Value, k.Line, strings.Join(order, ", "))
		}
		if seen[k.Value] {
			return fmt.Errorf("%s: set twice (line %d)", k.Value, k.Line)
		}
		seen[k.Value] = true
		if err := f(v); err != nil {
			return fmt.Errorf("%s: %w", k.Value, err)
		}
	}
	return nil
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return yamlnode.Resolve(n.Content[i+1])
		}
	}
	return nil
}

func str(dst *string) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a string, got %s", yamlnode.KindName(n))
		}
		*dst = n.Value
		return nil
	}
}

func boolean(dst *bool) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return fmt.Errorf("want true or false, got %s", yamlnode.KindName(n))
		}
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return fmt.Errorf("want true or false, got %q", n.Value)
		}
		*dst = b
		return nil
	}
}

// strList accepts a list of strings, or one string; with comma set, a
// comma-separated string is split (idp_scopes: "openid,email").
func strList(dst *[]string, comma bool) fieldFn {
	return func(n *yaml.Node) error {
		switch {
		case yamlnode.IsNull(n):
			return nil
		case n.Kind == yaml.ScalarNode:
			parts := []string{n.Value}
			if comma {
				parts = strings.Split(n.Value, ",")
			}
			var out []string
			for _, p := range parts {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			*dst = out
			return nil
		case n.Kind == yaml.SequenceNode:
			out := make([]string, 0, len(n.Content))
			for i, e := range n.Content {
				e = yamlnode.Resolve(e)
				if e.Kind != yaml.ScalarNode || yamlnode.IsNull(e) {
					return fmt.Errorf("[%d]: want a string, got %s", i, yamlnode.KindName(e))
				}
				out = append(out, e.Value)
			}
			*dst = out
			return nil
		}
		return fmt.Errorf("want a list of strings, got %s", yamlnode.KindName(n))
	}
}

// decodeList appends each element of the YAML list n (null = none) to
// dst, decoded by one; an error names the element's index. what names the
// element form in the error for a node that is not a list.
func decodeList[T any](n *yaml.Node, dst *[]T, what string, one func(*yaml.Node) (T, error)) error {
	if yamlnode.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("want a list of %s, got %s", what, yamlnode.KindName(n))
	}
	for i, e := range n.Content {
		v, err := one(yamlnode.Resolve(e))
		if err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		*dst = append(*dst, v)
	}
	return nil
}

// optBool decodes a boolean whose absence must be told from false: null
// leaves *dst nil.
func optBool(dst **bool) fieldFn {
	return func(n *yaml.Node) error {
		var b bool
		if err := boolean(&b)(n); err != nil || yamlnode.IsNull(n) {
			return err
		}
		*dst = &b
		return nil
	}
}

// duration parses a Go duration ("30s", "5m", "1h30m"); negative values
// are refused.
func duration(dst *time.Duration, set *bool) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if set != nil {
			*set = true
		}
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a duration like 30s, 5m or 14h, got %s", yamlnode.KindName(n))
		}
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return fmt.Errorf("want a duration like 30s, 5m or 14h, got %q", n.Value)
		}
		if d < 0 {
			return fmt.Errorf("must not be negative, got %q", n.Value)
		}
		*dst = d
		return nil
	}
}

// claimMap decodes allowed_idp_claims: claim name -> value or list of values.
func claimMap(dst *map[string][]any) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("want a map of claim name to list of values (e.g. groups: [admins]), got %s", yamlnode.KindName(n))
		}
		out := map[string][]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, v := n.Content[i].Value, yamlnode.Resolve(n.Content[i+1])
			if name == "" {
				return fmt.Errorf("empty claim name")
			}
			var items []*yaml.Node
			switch v.Kind {
			case yaml.ScalarNode:
				items = []*yaml.Node{v}
			case yaml.SequenceNode:
				items = v.Content
			default:
				return fmt.Errorf("%s: want a value or a list of values, got %s", name, yamlnode.KindName(v))
			}
			for j, it := range items {
				it = yamlnode.Resolve(it)
				if it.Kind != yaml.ScalarNode || yamlnode.IsNull(it) {
					return fmt.Errorf("%s[%d]: want a value, got %s", name, j, yamlnode.KindName(it))
				}
				var val any
				if err := it.Decode(&val); err != nil {
					return fmt.Errorf("%s[%d]: %w", name, j, err)
				}
				out[name] = append(out[name], val)
			}
		}
		*dst = out
		return nil
	}
}

// nearestKey is the allowed key closest to a mistyped one (a typo, a
// dash for an underscore, another case), or "" when none is close.
func nearestKey(k string, allowed []string) string {
	norm := strings.ToLower(strings.ReplaceAll(k, "-", "_"))
	best, bestD := "", 0
	for _, a := range allowed {
		if a == norm {
			return a
		}
		d := editdist.Distance(norm, a)
		if max := max(1, min(3, len(a)/4)); d <= max && (best == "" || d < bestD) {
			best, bestD = a, d
		}
	}
	return best
}
