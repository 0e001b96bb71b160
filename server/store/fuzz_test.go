package store

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds hostile stored bodies (a tampered database row) to the
// decoder: it may refuse them, never panic, and never return a secret it
// could not authenticate.
func FuzzDecode(f *testing.F) {
	s, err := newSealer(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.seal(KindSession, "id", "token")
	f.Add([]byte(`{"userId":"u","refreshToken":"`+good+`"}`), "id")
	f.Add([]byte(`{"refreshToken":"v1:AAAA"}`), "id")
	f.Add([]byte(`{"refreshToken":"plain"}`), "id")
	f.Add([]byte(`{"claims":{"a":[1,{"b":null}]},"groups":null}`), "x")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		v, err := Sessions.decode(s, row{kind: KindSession, id: id, data: data})
		if err != nil {
			return
		}
		if v.RefreshToken != "" && v.RefreshToken != "token" {
			t.Fatalf("decoded a secret %q that was never sealed", v.RefreshToken)
		}
		if v.ID != id {
			t.Fatalf("ID %q; want the row's %q", v.ID, id)
		}
	})
}
