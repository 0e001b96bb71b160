package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryKey: the README's configuration reference names
// every key the parser accepts, so it cannot fall behind.
func TestREADMEListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Server configuration reference")
	if start < 0 {
		t.Fatal("README has no server configuration reference")
	}
	ref := readme[start:]
	if end := strings.Index(ref[3:], "\n## "); end >= 0 {
		ref = ref[:end+3]
	}
	top, route := AcceptedKeys()
	for _, k := range append(top, route...) {
		if !strings.Contains(ref, "`"+k+"`") && !strings.Contains(ref, "`"+k+" ") && !strings.Contains(ref, k+"`") {
			t.Errorf("README configuration reference does not list `%s`", k)
		}
	}
}
