package authn

import "testing"

func TestIsLocalPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"/.pomerium/routes", true},
		{"/app?x=1", true},
		{"", false},
		{"relative", false},
		{"https://evil.example/", false},
		{"//evil.example/", false},
		{"/\\evil.example/", false},
		// Browsers strip tabs and newlines, leaving //evil.example.
		{"/\t/evil.example/", false},
		{"/\n/evil.example/", false},
		{"/\r\\evil.example/", false},
		{"/a\x00b", false},
	} {
		if got := IsLocalPath(tc.in); got != tc.want {
			t.Errorf("IsLocalPath(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}
