package bench

import (
	"strings"
	"testing"
	"time"
)

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

func TestStartLines(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	var b strings.Builder
	startLines(&b, ms(2, 3, 4), ms(6, 9, 12), ms(20, 30, 40))
	want := "start: a static Go program with the same runtime, net/http and crypto/tls that does nothing (porthole-bench start) takes 3.00 ms p50 here;\n" +
		"  h2 (default)'s --help takes 3.00x its time, routes list 10.00x\n"
	if b.String() != want {
		t.Errorf("startLines =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	startLines(&b, nil, ms(6), ms(20))
	if b.Len() != 0 {
		t.Errorf("with no start runs, startLines wrote %q", b.String())
	}
}

// The baseline role must do nothing at all: no address line, no error.
func TestStartRoleDoesNothing(t *testing.T) {
	var out, errOut strings.Builder
	if rc := Main([]string{"start"}, &out, &errOut); rc != 0 || out.Len() != 0 || errOut.Len() != 0 {
		t.Fatalf("Main(start) = %d, stdout %q, stderr %q; want 0 and nothing written", rc, out.String(), errOut.String())
	}
}
