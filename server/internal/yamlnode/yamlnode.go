// Package yamlnode holds the yaml.Node helpers shared by the server's
// strict config and policy decoders, so both describe bad input alike.
package yamlnode

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Resolve follows documents and aliases to the node holding the value.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 100 && n != nil; i++ { // bounded: alias cycles are YAML errors anyway
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			n = n.Alias
		default:
			return n
		}
	}
	return n
}

// IsNull reports an explicit or empty YAML null.
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// KindName says what a node is, for "want X, got Y" errors.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected YAML node"
}

// DuplicateKeys reports the first map key written twice under n (YAML
// parsers disagree on which one wins, so neither is guessed at).
func DuplicateKeys(n *yaml.Node) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if seen[k.Value] {
					return fmt.Errorf("line %d: key %q set twice in the same map; keep one", k.Line, k.Value)
				}
				seen[k.Value] = true
			}
		}
	}
	for _, c := range n.Content { // aliases are not followed: their target is checked where it is written
		if err := DuplicateKeys(c); err != nil {
			return err
		}
	}
	return nil
}
