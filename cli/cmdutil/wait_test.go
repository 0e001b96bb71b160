package cmdutil

import (
	"os"
	"testing"
	"time"
)

// waitForFile polls for path against a generous deadline.
func waitForFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within 30s: %v", path, err)
		}
		<-time.After(10 * time.Millisecond)
	}
}
