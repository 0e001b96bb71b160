package config

import "testing"

// FuzzParse checks that no input makes Parse panic and that every error
// is one line.
func FuzzParse(f *testing.F) {
	f.Add(fullConfig)
	f.Add("routes:\n  - from: tcp+https://p:1/db:5432\n    to: [\"tcp://db:5432,2\"]\n")
	f.Add("routes:\n  - from: https://a\n    to: http://a\n    policy: {allow: {or: [{accept: true}]}}\n")
	f.Add("routes: [{from: 'udp+https://[::1]:53', to: 'udp://[::1]:53'}]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := Parse([]byte(doc))
		if err != nil {
			for _, c := range err.Error() {
				if c == '\n' {
					t.Fatalf("multi-line error: %q", err)
				}
			}
			return
		}
		for i := range cfg.Routes {
			r := &cfg.Routes[i]
			if r.FromURL == nil || r.Type == "" || len(r.To) == 0 {
				t.Fatalf("route %d not fully derived: %+v", i, r)
			}
			if r.Type != "http" && r.Authority == "" {
				t.Fatalf("route %d (%s) has no authority", i, r.From)
			}
			r.EffectivePolicy().Evaluate(nil)
		}
	})
}
