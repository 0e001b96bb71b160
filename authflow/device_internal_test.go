package authflow

import "testing"

func TestValidUserCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"ABCD-1234", true},
		{"WDJB", true},
		{"ABCDEFGHJKLMNPQR", true},
		{"ABC", false},
		{"ABCDEFGHJKLMNPQRS", false},
		{"abcd-1234", false},
		{"ABCD 1234", false},
		{"ABCD\x1b[31m", false},
		{"", false},
	} {
		if got := validUserCode(tc.code); got != tc.want {
			t.Errorf("validUserCode(%q) = %v; want %v", tc.code, got, tc.want)
		}
	}
}
