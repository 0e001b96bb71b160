package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{-1, "0 B"}, {0, "0 B"}, {5, "5 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"},
		{9000, "8.8 KiB"}, {9, "9 B"}, {10, "10 B"}, {10239, "10 KiB"}, {1047552, "1023 KiB"}, {1048064, "1024 KiB"}, {1 << 20, "1.0 MiB"}, {1 << 40, "1.0 TiB"}, {64 << 20, "64 MiB"}, {3 << 30, "3.0 GiB"}, {1<<63 - 1, "8.0 EiB"},
	} {
		if got := Format(tt.n); got != tt.want {
			t.Errorf("Format(%d) = %q; want %q", tt.n, got, tt.want)
		}
	}
}
