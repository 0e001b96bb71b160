package cli_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestMakeBuildStampsVersion: the binaries built with `make build`'s
// ldflags print the commit they were built from, for `version` and
// `--version` alike (a plain go build says dev: TestE2EBinaryVersion).
func TestMakeBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	root := testutil.RepoRoot(t)
	makeBin := testutil.Require(t, "make")
	cmd := exec.Command(makeBin, "-s", "ldflags")
	cmd.Dir = root
	ld, err := cmd.Output()
	if err != nil {
		t.Fatalf("make ldflags: %v", err)
	}
	want := "unknown"
	cmd = exec.Command("git", "rev-parse", "--short=12", "HEAD")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		want = strings.TrimSpace(string(out))
	}
	if !strings.Contains(string(ld), "version.Commit="+want) {
		t.Fatalf("make ldflags = %q; want the commit %s stamped", ld, want)
	}
	dir := t.TempDir()
	for _, name := range []string{"pomerium-cli", "pomerium-server"} {
		bin := filepath.Join(dir, name)
		b := exec.Command("go", "build", "-ldflags", strings.TrimSpace(string(ld)), "-o", bin, "./cmd/"+name)
		b.Dir = root
		if out, err := b.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
		re := regexp.MustCompile(`^` + name + ` \S+ \(commit ` + regexp.QuoteMeta(want) + `, go1\.`)
		for _, args := range [][]string{{"version"}, {"--version"}} {
			out, err := exec.Command(bin, args...).Output()
			if err != nil || !re.Match(out) || strings.Contains(string(out), " dev ") {
				t.Errorf("%s %s = %q, %v; want %s", name, args[0], out, err, re)
			}
		}
	}
}
