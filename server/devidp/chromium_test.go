package devidp

import (
	"context"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestSignInPageInChromium follows a real authorize URL in headless
// Chromium to the sign-in page and checks the rendered DOM and a
// screenshot. The issuer is plain HTTP on loopback so Chromium needs no
// certificate exception.
func TestSignInPageInChromium(t *testing.T) {
	chromium := requireTool(t, "chromium")
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p, err := New(Options{
		Issuer: srv.URL + testPrefix, ClientID: "c", ClientSecret: "s",
		RedirectURIs: []string{srv.URL + "/cb"},
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(testPrefix+"/", p.Handler())
	cfg := oauth2.Config{
		ClientID: "c", RedirectURL: srv.URL + "/cb", Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + testPrefix + "/authorize"},
	}
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=800,600",
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, append(args, "--dump-dom", authURL)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{
		"Sign in to the Porthole dev provider",
		`value="dev@example.com"`, `value="guest@example.com"`,
		"Dev User", "groups: admins",
	} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}

	artifacts := filepath.Join("..", "..", "artifacts") // the repository root, from server/devidp
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "devidp-signin.png")
	_ = os.Remove(shot)
	if out, err := exec.CommandContext(ctx, chromium, append(args, "--screenshot="+shot, authURL)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding screenshot: %v", err)
	}
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot looks blank: %d distinct colours; want text and buttons", len(colours))
	}
	t.Logf("screenshot: %s", shot)
}

// requireTool mirrors testutil.Require, which this package cannot import
// (testutil starts the whole server, which imports devidp): a missing tool
// fails under PORTHOLE_STRICT=1 and skips otherwise.
func requireTool(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("PORTHOLE_STRICT") == "1" {
		t.Fatalf("%s is required (PORTHOLE_STRICT=1) but not on PATH: run `make deps`", tool)
	}
	t.Skipf("%s not on PATH; run `make test` to install it", tool)
	return ""
}
