package pkgbuild

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager (pure Go, no rpmbuild)

	"github.com/porthole-dev/porthole/internal/atomicfile"
)

const zshSite = "share/zsh/site-functions/"

// PackageOptions describe the packages to build.
type PackageOptions struct {
	Version string // e.g. v0.1.0 or 0.1.0-dev; a leading v is dropped
	Arch    string // GOARCH of the binaries
	Out     string // directory for the packages (created)
	Formats []string
	MTime   time.Time // every file's time; zero = now
}

// The desktop app links libGL and libX11 (ldd bin/pomerium-desktop);
// xdg-open opens the sign-in page.
var (
	debDepends    = []string{"libc6", "libgl1", "libx11-6"}
	debRecommends = []string{"xdg-utils"}
	rpmDepends    = []string{"libGL.so.1()(64bit)", "libX11.so.6()(64bit)"}
	rpmRecommends = []string{"xdg-utils"}
)

// Package builds one package per format from the staged files (installed
// under /usr) and returns their paths. Each package appears whole or not
// at all.
func Package(fs []File, o PackageOptions) ([]string, error) {
	if o.MTime.IsZero() {
		o.MTime = time.Now()
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	var contents files.Contents
	for _, f := range fs {
		fi := &files.ContentFileInfo{Mode: f.Mode, MTime: o.MTime, Owner: "root", Group: "root"}
		if rest, ok := strings.CutPrefix(f.Dst, zshSite); ok {
			// Debian's zsh reads vendor completions from its own directory.
			contents = append(contents,
				&files.Content{Source: f.Src, Destination: "/usr/share/zsh/vendor-completions/" + rest, Packager: "deb", FileInfo: fi},
				&files.Content{Source: f.Src, Destination: "/usr/" + f.Dst, Packager: "rpm", FileInfo: fi})
			continue
		}
		contents = append(contents, &files.Content{Source: f.Src, Destination: "/usr/" + f.Dst, FileInfo: fi})
	}
	cfg := nfpm.Config{
		Info: nfpm.Info{
			Name:       "porthole",
			Arch:       o.Arch,
			Platform:   "linux",
			Version:    o.Version,
			Release:    "1",
			Section:    "net",
			Priority:   "optional",
			Maintainer: "Porthole developers <porthole@example.com>",
			Description: "Pomerium client (pomerium-cli, pomerium-desktop) and compatible server\n" +
				"pomerium-cli signs in through the browser and opens TCP/UDP tunnels through an\n" +
				"identity-aware proxy; pomerium-desktop switches saved tunnels on and off;\n" +
				"pomerium-server is a Pomerium-compatible proxy, portal and CONNECT server.",
			Vendor:   "Porthole",
			Homepage: "https://github.com/porthole-dev/porthole",
			License:  "Apache-2.0",
			MTime:    o.MTime,
			Overridables: nfpm.Overridables{
				Contents: contents,
			},
		},
		Overrides: map[string]*nfpm.Overridables{
			"deb": {Depends: debDepends, Recommends: debRecommends},
			"rpm": {Depends: rpmDepends, Recommends: rpmRecommends},
		},
	}
	var out []string
	for _, format := range o.Formats {
		p, err := build(&cfg, format, o.Out)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

func build(cfg *nfpm.Config, format, outDir string) (string, error) {
	info, err := cfg.Get(format)
	if err != nil {
		return "", err
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.Validate(info); err != nil {
		return "", fmt.Errorf("%s package: %w", format, err)
	}
	pkg, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	target := filepath.Join(outDir, pkg.ConventionalFileName(info))
	info.Target = target
	var buf bytes.Buffer
	if err := pkg.Package(info, &buf); err != nil {
		return "", fmt.Errorf("%s package: %w", format, err)
	}
	if err := atomicfile.Write(target, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return target, nil
}
