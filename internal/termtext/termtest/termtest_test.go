package termtest

import "testing"

func TestCheck(t *testing.T) {
	tests := []struct {
		out      string
		allowSGR bool
		ok       bool
	}{
		{"plain text\n\twith tabs", false, true},
		{"\x1b[31mred\x1b[0m", true, true},
		{"\x1b[31mred\x1b[0m", false, false},
		{"\x1b]52;c;ZXZpbA==\x07", true, false},
		{"c1\u009b2J", true, false},
		{"bad\xffutf8", true, false},
		{"rlo\u202egnp.exe", true, false},
	}
	for _, tt := range tests {
		if err := Check(tt.out, tt.allowSGR); (err == nil) != tt.ok {
			t.Errorf("Check(%q, %v) = %v, want ok %v", tt.out, tt.allowSGR, err, tt.ok)
		}
	}
	// The samples are hostile: all but the line break, which printing
	// surfaces must not let through to a request or a log line, fail.
	for _, s := range Samples {
		if err := Check(s, false); err == nil && s != "lf\nX-Injected: 1" {
			t.Errorf("sample %q passes Check", s)
		}
	}
}
