package server_test

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

func chromiumArgs(t *testing.T, d *testutil.DevServer) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
		testutil.ChromiumTrust(d.CACert(t)),
		"--window-size=1200,900",
	}
}

func TestPortalPageInChromium(t *testing.T) {
	chromium := testutil.Require(t, "chromium")
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	page := d.URL.String() + "/.pomerium/routes?pomerium_session=" + url.QueryEscape(tok)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, append(chromiumArgs(t, d), "--dump-dom", page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, name := range []string{"echo", "admin-echo", "verify", "public", "pomerium-cli tcp tcp+https://" + d.Addr + "/echo.internal:7000"} {
		if !strings.Contains(string(dom), name) {
			t.Errorf("rendered DOM lacks %q", name)
		}
	}

	artifacts := filepath.Join(testutil.RepoRoot(t), "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "server-portal.png")
	os.Remove(shot)
	cmd := exec.CommandContext(ctx, chromium, append(chromiumArgs(t, d), "--screenshot="+shot, page)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("decoding screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 900 {
		t.Errorf("screenshot size: got %v; want 1200x900", b.Size())
	}
	colours := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(colours) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot looks blank: %d distinct colours; want text and cards", len(colours))
	}
	t.Logf("screenshot: %s (%d+ colours)", shot, len(colours))
}
