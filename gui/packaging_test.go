package gui

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackaging keeps packaging/ in step with the app: the .desktop file
// runs the binary and names an installed icon, the metainfo's id is
// AppID, and the installed icons are the ones the app embeds.
func TestPackaging(t *testing.T) {
	dir := filepath.Join("..", "packaging")
	entry := desktopEntry(t)
	for k, want := range map[string]string{"Type": "Application", "Exec": "pomerium-desktop", "Icon": "pomerium-desktop", "Name": "Porthole", "Terminal": "false", "StartupWMClass": "Porthole"} {
		if entry[k] != want {
			t.Errorf(".desktop %s: got %q; want %q", k, entry[k], want)
		}
	}

	var meta struct {
		ID         string `xml:"id"`
		Launchable string `xml:"launchable"`
		Binary     string `xml:"provides>binary"`
	}
	mb, err := os.ReadFile(filepath.Join(dir, AppID+".metainfo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(mb, &meta); err != nil {
		t.Fatalf("metainfo: %v", err)
	}
	if meta.ID != AppID || meta.Launchable != AppID+".desktop" || meta.Binary != "pomerium-desktop" {
		t.Errorf("metainfo: got id %q launchable %q binary %q; want %s, %s.desktop, pomerium-desktop", meta.ID, meta.Launchable, meta.Binary, AppID, AppID)
	}

	for _, pair := range [][2]string{{"pomerium-desktop.png", "icon.png"}, {"pomerium-desktop.svg", "icon.svg"}} {
		installed, err := os.ReadFile(filepath.Join(dir, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(installed, embedded) {
			t.Errorf("packaging/%s differs from gui/%s: copy it over", pair[0], pair[1])
		}
	}
}

// desktopEntry is packaging/<AppID>.desktop's keys.
func desktopEntry(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "packaging", AppID+".desktop"))
	if err != nil {
		t.Fatal(err)
	}
	entry := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			entry[k] = v
		}
	}
	return entry
}
