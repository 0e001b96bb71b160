package config

import (
	"bytes"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// rawValues is each top-level key's value as written (environment
// overrides applied), in one canonical YAML spelling, for ChangedKeys.
func rawValues(root *yaml.Node) map[string]string {
	out := map[string]string{}
	if root == nil || root.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		// Decoded and encoded again: quoting, flow or block style and
		// anchors do not count as changes.
		n := yamlnode.Resolve(root.Content[i+1])
		var v any
		b, err := []byte(nil), n.Decode(&v)
		if err == nil {
			b, err = yaml.Marshal(v)
		}
		if err != nil {
			b = []byte(n.Value)
		}
		out[root.Content[i].Value] = string(b)
	}
	return out
}

// ChangedKeys names the top-level keys whose values differ between a
// and b (set in one only, or set to another value), sorted: what a
// reload changes. Keys that read a file (*_file) also count as changed
// when the file's contents changed, for the contents the parser keeps
// (secrets, certificate_authority_file).
func ChangedKeys(a, b *Config) []string {
	var out []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for k, v := range a.raw {
		if w, ok := b.raw[k]; !ok || w != v {
			add(k)
		}
	}
	for k := range b.raw {
		if _, ok := a.raw[k]; !ok {
			add(k)
		}
	}
	for _, f := range []struct {
		key     string
		changed bool
	}{
		{"shared_secret", a.SharedSecret != b.SharedSecret},
		{"cookie_secret", a.CookieSecret != b.CookieSecret},
		{"idp_client_secret", a.IdpClientSecret != b.IdpClientSecret},
		{"certificate_authority", !bytes.Equal(a.UpstreamRoots, b.UpstreamRoots)},
	} {
		if f.changed && !seen[f.key] && !seen[f.key+"_file"] {
			add(f.key + "_file")
		}
	}
	slices.Sort(out)
	return out
}
