package tcppair_test

import (
	"io"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil/tcppair"
)

func TestBothWaysAndHalfClose(t *testing.T) {
	a, b := tcppair.New(t)
	for _, tc := range []struct {
		name string
		from interface {
			Write([]byte) (int, error)
			CloseWrite() error
		}
		to io.Reader
	}{
		{"first to second", a, b},
		{"second to first", b, a},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.from.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			if err := tc.from.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(tc.to)
			if err != nil || string(got) != "ping" {
				t.Fatalf("read %q, %v; want \"ping\" then the end", got, err)
			}
		})
	}
}
