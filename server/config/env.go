package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// LookupEnv is os.LookupEnv's shape; tests pass a map's lookup.
type LookupEnv func(key string) (string, bool)

// LoadEnv is Load with Pomerium's environment overrides: each top-level
// key may be set by its upper-case name (ADDRESS, SHARED_SECRET,
// IDP_CLIENT_SECRET, ...), which wins over the file. Lists take a
// comma-separated value (IDP_SCOPES=openid,email). lookup nil: no
// overrides.
func LoadEnv(path string, lookup LookupEnv) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseEnv(data, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// envOverrides returns the scalar nodes set by the environment, by key.
func envOverrides(keys []string, lookup LookupEnv) map[string]*yaml.Node {
	if lookup == nil {
		return nil
	}
	out := map[string]*yaml.Node{}
	for _, k := range keys {
		if k == "routes" || k == "policy" {
			continue
		}
		v, ok := lookup(strings.ToUpper(k))
		if !ok {
			continue
		}
		out[k] = envNode(v)
	}
	return out
}

// envNode types an environment value as YAML would a plain scalar
// (true, 30s, 8443), never as a map or list: a value is one setting.
func envNode(v string) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v), &doc); err == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode {
		n := doc.Content[0]
		n.Style = 0
		return n
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// applyEnv sets or replaces the overridden keys in the root mapping.
func applyEnv(root *yaml.Node, env map[string]*yaml.Node) {
	for k, v := range env {
		replaced := false
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == k {
				root.Content[i+1] = v
				replaced = true
			}
		}
		if !replaced {
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
		}
	}
}
