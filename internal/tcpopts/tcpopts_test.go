package tcpopts

import "testing"

func TestKeepAlive(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:80":         true,
		"127.3.2.1:80":         true,
		"[::1]:5432":           true,
		"[::ffff:127.0.0.1]:1": true,
		"localhost:22":         true,
		"LOCALHOST.:22":        true,
		"127.0.0.1":            true,
		"10.0.0.1:80":          false,
		"0.0.0.0:0":            false,
		"[::]:0":               false,
		"db.example:5432":      false,
		"localhost.example:1":  false,
		":8080":                false,
		"":                     false,
	} {
		if got := KeepAlive(addr) < 0; got != want {
			t.Errorf("KeepAlive(%q) off = %v, want %v", addr, got, want)
		}
	}
}
