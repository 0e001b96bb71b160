package server

import "testing"

func TestStripHostDot(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"verify.localhost.", "verify.localhost"},
		{"verify.localhost.:8443", "verify.localhost:8443"},
		{"VERIFY.LocalHost.:1", "VERIFY.LocalHost:1"},
		{"verify.localhost..:8443", "verify.localhost.:8443"}, // one dot only
		{"verify.localhost:8443", "verify.localhost:8443"},
		{"verify.localhost", "verify.localhost"},
		{"localhost.", "localhost"},
		{"echo.internal.:7000", "echo.internal:7000"},
		{".", "."},
		{".:443", ".:443"},
		{"", ""},
		{"[::1]:443", "[::1]:443"},
		{"[::1]", "[::1]"},
		{"[fe80::1%25eth0.]:443", "[fe80::1%25eth0.]:443"},
		{"127.0.0.1:443", "127.0.0.1:443"},
		{"a.:", "a:"},
	} {
		if got := stripHostDot(tc.in); got != tc.want {
			t.Errorf("stripHostDot(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
