// Command pkg is `make package` and `make install`: see internal/pkgbuild.
//
//	go run ./scripts/pkg package -bin bin -out dist -version v0.1.0
//	go run ./scripts/pkg install -bin bin -prefix /usr/local [-destdir DIR]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/porthole-dev/porthole/internal/pkgbuild"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 0 || (args[0] != "package" && args[0] != "install") {
		fmt.Fprintln(os.Stderr, "usage: pkg package|install [flags] (see -h)")
		return 2
	}
	fs := flag.NewFlagSet("pkg "+args[0], flag.ContinueOnError)
	bin := fs.String("bin", "bin", "`dir` holding the built binaries")
	src := fs.String("src", ".", "repository root")
	version := fs.String("version", "v0.0.0-dev", "package `version`")
	out := fs.String("out", "dist", "output `dir` for packages")
	formats := fs.String("formats", "deb,rpm", "comma-separated package formats")
	prefix := fs.String("prefix", "/usr/local", "install prefix")
	destDir := fs.String("destdir", "", "staging root prepended to the prefix")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	tmp, err := os.MkdirTemp("", "porthole-pkg-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkg:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	files, err := pkgbuild.Stage(pkgbuild.StageOptions{Src: *src, Bin: *bin, Dir: tmp, Version: *version})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkg:", err)
		return 1
	}
	if args[0] == "install" {
		if err := pkgbuild.Install(files, *prefix, *destDir); err != nil {
			fmt.Fprintln(os.Stderr, "pkg:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "installed %d files under %s%s\n", len(files), *destDir, *prefix)
		return 0
	}
	paths, err := pkgbuild.Package(files, pkgbuild.PackageOptions{Version: *version, Arch: runtime.GOARCH, Out: *out, Formats: strings.Split(*formats, ",")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkg:", err)
		return 1
	}
	for _, p := range paths {
		fmt.Println(p)
	}
	return 0
}
