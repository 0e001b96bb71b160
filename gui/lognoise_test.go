package gui

import (
	"bytes"
	"errors"
	"log"
	"testing"

	"fyne.io/fyne/v2"
)

// TestFyneNoise feeds Fyne's real LogError through the filter: the EOF
// report of the preferences file goes, anything else stays whole.
func TestFyneNoise(t *testing.T) {
	var out bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })
	log.SetOutput(&fyneNoise{w: &out})
	log.SetFlags(0)

	fyne.LogError("Preferences load error:", errors.New("EOF"))
	if out.Len() != 0 {
		t.Errorf("EOF report: got %q; want nothing", out.String())
	}
	fyne.LogError("Preferences load error:", errors.New("permission denied"))
	if got := out.String(); !bytes.Contains(out.Bytes(), []byte("Preferences load error:")) || !bytes.Contains(out.Bytes(), []byte("Cause: permission denied")) {
		t.Errorf("other cause: got %q; want the whole report", got)
	}
	out.Reset()
	log.Println("systray error: something")
	fyne.LogError("Failed on saving preferences", errors.New("EOF"))
	if got := out.String(); !bytes.Contains(out.Bytes(), []byte("systray error")) || !bytes.Contains(out.Bytes(), []byte("Failed on saving preferences")) {
		t.Errorf("other lines: got %q; want them passed", got)
	}
}
