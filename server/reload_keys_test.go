package server

import (
	"slices"
	"testing"

	"github.com/porthole-dev/porthole/server/config"
)

// TestEveryKeyHasAReloadRule: each accepted top-level key either applies
// on reload or is named as restart-only, never both, never neither (a
// new key must decide, or reload would apply it silently or not at all).
func TestEveryKeyHasAReloadRule(t *testing.T) {
	top, _ := config.AcceptedKeys()
	for _, k := range top {
		live, restart := slices.Contains(liveKeys, k), slices.Contains(restartKeys, k)
		switch {
		case live && restart:
			t.Errorf("%s is in both liveKeys and restartKeys", k)
		case !live && !restart:
			t.Errorf("%s is in neither liveKeys nor restartKeys (reload.go): decide whether a reload applies it", k)
		}
	}
	for _, k := range slices.Concat(liveKeys, restartKeys, devRestartKeys) {
		if !slices.Contains(top, k) {
			t.Errorf("%s is listed in reload.go but is no config key", k)
		}
	}
}
