package bench

import "testing"

func TestVerdict(t *testing.T) {
	tests := []struct {
		ratio float64
		goal  string
		ok    bool
		want  string
	}{
		{0.41, "<= 0.35x", false, "0.41x (goal <= 0.35x, MISSED)"},
		{0.3546, "<= 0.35x", false, "0.355x (goal <= 0.35x, MISSED)"},
		{0.3504, "<= 0.35x", false, "0.350x (goal <= 0.35x, MISSED)"},
		{0.349, "<= 0.35x", true, "0.349x (goal <= 0.35x, met)"},
		{1.27, ">= 1.10x", true, "1.27x (goal >= 1.10x, met)"},
		{1.0951, ">= 1.10x", false, "1.095x (goal >= 1.10x, MISSED)"},
		{1.6, "", false, "1.60x"},
	}
	for _, tt := range tests {
		if got := verdict(tt.ratio, tt.goal, tt.ok); got != tt.want {
			t.Errorf("verdict(%v, %q, %v) = %q, want %q", tt.ratio, tt.goal, tt.ok, got, tt.want)
		}
	}
}
