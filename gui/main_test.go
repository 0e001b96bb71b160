package gui

import (
	"testing"

	// As in cmd/pomerium-desktop: no Fyne locale warning under C.UTF-8.
	_ "github.com/porthole-dev/porthole/internal/quietlocale"
)

func TestMainRefusesBadArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"unknown flag", []string{"--nope"}, 2},
		{"stray argument", []string{"extra"}, 2},
		{"help", []string{"-h"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Main(tc.args); got != tc.want {
				t.Errorf("Main(%q): got %d; want %d", tc.args, got, tc.want)
			}
		})
	}
}
