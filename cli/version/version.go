// Package version is `pomerium-cli version` and the build stamp it prints.
// Version and Commit are set at build time:
//
//	go build -ldflags "-X github.com/porthole-dev/porthole/cli/version.Version=v1.2.3 -X github.com/porthole-dev/porthole/cli/version.Commit=$(git rev-parse --short HEAD)" ./cmd/pomerium-cli
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// Set by -ldflags -X; "dev" for a plain go build.
var (
	Version = "dev"
	Commit  = "dev"
)

// String is "VERSION (commit COMMIT, GOVERSION)".
func String() string {
	commit := Commit
	if commit == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					commit = s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("%s (commit %s, %s %s/%s)", Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// VersionOptions are the parsed arguments of `version`.
type VersionOptions struct {
	IO *cmdutil.IOStreams
}

// NewCmdVersion builds `pomerium-cli version`. runF replaces versionRun in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *VersionOptions) error {
	_, err := fmt.Fprintf(opts.IO.Out, "pomerium-cli %s\n", String())
	return err
}
