package pkgbuild

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

const (
	testVersion = "v9.8.7-test"
	testCommit  = "0123456789ab"
)

// buildStamped builds the three binaries with the version stamp `make
// build` uses.
func buildStamped(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ld := "-X github.com/porthole-dev/porthole/cli/version.Version=" + testVersion +
		" -X github.com/porthole-dev/porthole/cli/version.Commit=" + testCommit
	cmd := exec.Command("go", "build", "-ldflags", ld, "-o", dir+"/", "./cmd/...")
	cmd.Dir = testutil.RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return dir
}

// TestDebPackage builds the .deb and .rpm as `make package` does, unpacks
// the .deb with dpkg-deb -x, runs each binary's --version from there and
// checks the file list and the control fields.
func TestDebPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and packages")
	}
	dpkgDeb := testutil.Require(t, "dpkg-deb")
	bin := buildStamped(t)
	files, err := Stage(StageOptions{Src: testutil.RepoRoot(t), Bin: bin, Dir: t.TempDir(), Version: testVersion, Date: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	paths, err := Package(files, PackageOptions{Version: testVersion, Arch: runtime.GOARCH, Out: out, Formats: []string{"deb", "rpm"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || !strings.HasSuffix(paths[0], ".deb") || !strings.HasSuffix(paths[1], ".rpm") {
		t.Fatalf("packages: got %v; want a .deb and an .rpm", paths)
	}
	deb, rpm := paths[0], paths[1]

	// The rpm is built without rpmbuild; its lead must be an RPM's.
	if b, err := os.ReadFile(rpm); err != nil || len(b) < 4 || !bytes.Equal(b[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		t.Errorf("%s: not an RPM file (%v)", rpm, err)
	}

	run := func(name string, args ...string) string {
		t.Helper()
		b, err := exec.Command(name, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return string(b)
	}
	info := run(dpkgDeb, "-I", deb)
	for _, want := range []string{"Package: porthole", "Version: 9.8.7~test-1", "Architecture: " + runtime.GOARCH, "Depends: libc6, libgl1, libx11-6", "Recommends: xdg-utils"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I: no %q in\n%s", want, info)
		}
	}
	list := run(dpkgDeb, "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root .* ./usr/bin/pomerium-cli",
		"./usr/bin/pomerium-server", "./usr/bin/pomerium-desktop",
		"./usr/share/applications/dev.porthole.desktop.desktop",
		"./usr/share/metainfo/dev.porthole.desktop.metainfo.xml",
		"./usr/share/icons/hicolor/256x256/apps/pomerium-desktop.png",
		"./usr/share/icons/hicolor/scalable/apps/pomerium-desktop.svg",
		"./usr/share/man/man1/pomerium-cli.1.gz", "./usr/share/man/man1/pomerium-cli-tcp.1.gz",
		"./usr/share/man/man1/pomerium-server.1.gz", "./usr/share/man/man1/pomerium-server-config-check.1.gz",
		"./usr/share/bash-completion/completions/pomerium-cli", "./usr/share/bash-completion/completions/pomerium-server",
		"./usr/share/zsh/vendor-completions/_pomerium-cli", "./usr/share/fish/vendor_completions.d/pomerium-cli.fish",
	} {
		if want[0] == '-' {
			if !strings.Contains(list, "-rwxr-xr-x root/root") || !strings.Contains(list, "./usr/bin/pomerium-cli\n") {
				t.Errorf("dpkg-deb -c: pomerium-cli is not an executable owned by root:\n%s", list)
			}
			continue
		}
		if !strings.Contains(list, want+"\n") {
			t.Errorf("dpkg-deb -c: no %s", want)
		}
	}
	if strings.Contains(list, "site-functions") {
		t.Errorf("dpkg-deb -c: zsh completion in site-functions; Debian reads vendor-completions")
	}

	root := t.TempDir()
	run(dpkgDeb, "-x", deb, root)
	for _, b := range []string{"pomerium-cli", "pomerium-server", "pomerium-desktop"} {
		cmd := exec.Command(filepath.Join(root, "usr", "bin", b), "--version")
		cmd.Env = []string{"HOME=" + t.TempDir(), "LC_ALL=C.UTF-8"} // no DISPLAY: --version needs none
		got, err := cmd.CombinedOutput()
		want := b + " " + testVersion + " (commit " + testCommit + ", "
		if err != nil || !strings.HasPrefix(string(got), want) || strings.Count(string(got), "\n") != 1 {
			t.Errorf("%s --version: got %q (%v); want one line starting %q", b, got, err, want)
		}
	}

	// A man page is troff with the command's own name; a bash completion
	// loads in bash and registers the command.
	man := readGz(t, filepath.Join(root, "usr/share/man/man1/pomerium-cli-tcp.1.gz"))
	if !strings.Contains(man, ".TH \"POMERIUM-CLI-TCP\" \"1\"") || !strings.Contains(man, testVersion) {
		t.Errorf("pomerium-cli-tcp.1: no .TH header with the version:\n%.300s", man)
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		comp := filepath.Join(root, "usr/share/bash-completion/completions/pomerium-cli")
		got, err := exec.Command(bash, "-c", "source "+comp+" && complete -p pomerium-cli").CombinedOutput()
		if err != nil || !strings.Contains(string(got), "pomerium-cli") {
			t.Errorf("bash completion: got %q (%v)", got, err)
		}
	}
}

func readGz(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInstall is `make install PREFIX=/usr/local DESTDIR=...`.
func TestInstall(t *testing.T) {
	bin := t.TempDir()
	for _, b := range Binaries {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Stage(StageOptions{Src: testutil.RepoRoot(t), Bin: bin, Dir: t.TempDir(), Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := Install(files, "/usr/local", dest); err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{
		"usr/local/bin/pomerium-desktop":                                  0o755,
		"usr/local/share/man/man1/pomerium-server.1.gz":                   0o644,
		"usr/local/share/zsh/site-functions/_pomerium-server":             0o644,
		"usr/local/share/applications/dev.porthole.desktop.desktop":       0o644,
		"usr/local/share/icons/hicolor/256x256/apps/pomerium-desktop.png": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dest, path))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: got %v (%v); want mode %v", path, fi, err, mode)
		}
	}
	if err := Install(files, "usr/local", dest); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative PREFIX: got %v; want an error saying it must be absolute", err)
	}
	if _, err := Stage(StageOptions{Src: testutil.RepoRoot(t), Bin: t.TempDir(), Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("no binaries: got %v; want an error naming make build", err)
	}
}
