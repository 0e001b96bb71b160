// Package pkgbuild lays out an installed Porthole (binaries, the desktop
// entry, AppStream metainfo, icons, man pages generated from the cobra
// command trees, shell completions) and packs that layout into .deb and
// .rpm files with nfpm used as a library: no rpmbuild, no network.
//
//	files, err := pkgbuild.Stage(pkgbuild.StageOptions{Src: ".", Bin: "bin", Dir: tmp, Version: v})
//	err = pkgbuild.Install(files, "/usr/local", "")      // make install
//	paths, err := pkgbuild.Package(files, pkgbuild.PackageOptions{...}) // make package
package pkgbuild

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/porthole-dev/porthole/cli"
	"github.com/porthole-dev/porthole/server/servercmd"
)

// Binaries are the programs every install carries.
var Binaries = []string{"pomerium-cli", "pomerium-server", "pomerium-desktop"}

// AppID names the desktop entry and metainfo (gui.AppID; not imported so
// that packaging does not link Fyne).
const AppID = "dev.porthole.desktop"

// File is one installed file: Src on disk, Dst relative to the prefix
// (e.g. "bin/pomerium-cli", "share/man/man1/pomerium-cli.1.gz").
type File struct {
	Src, Dst string
	Mode     os.FileMode
}

// StageOptions says where the inputs are and where generated files go.
type StageOptions struct {
	Src     string // repository root (packaging/ lives there)
	Bin     string // directory holding the built binaries
	Dir     string // scratch directory for man pages and completions
	Version string // shown in the man pages' footer
	// Date is the man pages' date; zero = now.
	Date time.Time
}

// Stage generates man pages and completions into o.Dir and returns every
// file of an install, sorted by Dst. A missing binary is an error naming
// `make build`.
func Stage(o StageOptions) ([]File, error) {
	var files []File
	for _, b := range Binaries {
		src := filepath.Join(o.Bin, b)
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("binary %s is missing (run make build first): %w", src, err)
		}
		files = append(files, File{src, "bin/" + b, 0o755})
	}
	pk := filepath.Join(o.Src, "packaging")
	for _, a := range [][2]string{
		{AppID + ".desktop", "share/applications/" + AppID + ".desktop"},
		{AppID + ".metainfo.xml", "share/metainfo/" + AppID + ".metainfo.xml"},
		{"pomerium-desktop.png", "share/icons/hicolor/256x256/apps/pomerium-desktop.png"},
		{"pomerium-desktop.svg", "share/icons/hicolor/scalable/apps/pomerium-desktop.svg"},
	} {
		src := filepath.Join(pk, a[0])
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("packaging file: %w", err)
		}
		files = append(files, File{src, a[1], 0o644})
	}
	gen, err := generate(o)
	if err != nil {
		return nil, err
	}
	files = append(files, gen...)
	sort.Slice(files, func(i, j int) bool { return files[i].Dst < files[j].Dst })
	return files, nil
}

// roots builds the two cobra trees over discarded streams: building them
// has no side effects.
func roots() map[string]*cobra.Command {
	return map[string]*cobra.Command{
		"pomerium-cli":    cli.NewCmdRoot(cli.NewFactory(strings.NewReader(""), io.Discard, io.Discard)),
		"pomerium-server": servercmd.NewCmdRoot(servercmd.NewFactory(strings.NewReader(""), io.Discard, io.Discard)),
	}
}

func generate(o StageOptions) ([]File, error) {
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	manDir := filepath.Join(o.Dir, "man")
	compDir := filepath.Join(o.Dir, "completions")
	for _, d := range []string{manDir, compDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var files []File
	for name, root := range roots() {
		root.DisableAutoGenTag = true
		hdr := &doc.GenManHeader{Section: "1", Source: "Porthole " + o.Version, Manual: "Porthole Manual", Date: &date}
		raw := filepath.Join(o.Dir, "man-"+name)
		if err := os.MkdirAll(raw, 0o755); err != nil {
			return nil, err
		}
		if err := doc.GenManTree(root, hdr, raw); err != nil {
			return nil, fmt.Errorf("man pages for %s: %w", name, err)
		}
		pages, err := filepath.Glob(filepath.Join(raw, "*.1"))
		if err != nil {
			return nil, err
		}
		for _, p := range pages {
			gz := filepath.Join(manDir, filepath.Base(p)+".gz")
			if err := gzipFile(p, gz); err != nil {
				return nil, err
			}
			files = append(files, File{gz, "share/man/man1/" + filepath.Base(gz), 0o644})
		}
		for _, c := range []struct {
			dst string
			gen func(io.Writer) error
		}{
			{"share/bash-completion/completions/" + name, func(w io.Writer) error { return root.GenBashCompletionV2(w, true) }},
			{"share/zsh/site-functions/_" + name, root.GenZshCompletion},
			{"share/fish/vendor_completions.d/" + name + ".fish", func(w io.Writer) error { return root.GenFishCompletion(w, true) }},
		} {
			var buf bytes.Buffer
			if err := c.gen(&buf); err != nil {
				return nil, fmt.Errorf("completion %s: %w", c.dst, err)
			}
			src := filepath.Join(compDir, strings.ReplaceAll(c.dst, "/", "_"))
			if err := os.WriteFile(src, buf.Bytes(), 0o644); err != nil {
				return nil, err
			}
			files = append(files, File{src, c.dst, 0o644})
		}
	}
	return files, nil
}

// gzipFile compresses src into dst with no name or time in the header,
// so the same page gives the same bytes.
func gzipFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
