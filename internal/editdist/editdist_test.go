package editdist

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	long := strings.Repeat("a", MaxLen+1)
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"routes", "routes", 0},
		{"rotes", "routes", 1}, // deletion
		{"alternat-ca-path", "alternate-ca-path", 1},
		{"kitten", "sitting", 3}, // substitution + insertion
		{"address", "adress", 1},
		{"policy", "ploicy", 2}, // a swap is two edits
		{long, long, MaxLen},    // bounded, even when equal
		{long, "a", MaxLen},
		{strings.Repeat("a", MaxLen), strings.Repeat("a", MaxLen), 0},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d; want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}
