package connections_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestBinaryConnections runs the real pomerium-cli on a store shared with
// the library, as pomerium-desktop shares it.
func TestBinaryConnections(t *testing.T) {
	bin := testutil.BuildBinary(t, "pomerium-cli")
	dir := t.TempDir()
	store := filepath.Join(dir, "connections.json")
	run := func(stdin string, args ...string) (string, string, error) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"connections"}, args...)...)
		cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), saved.EnvPath + "=" + store, "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		t.Logf("pomerium-cli connections %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
		return out.String(), errOut.String(), err
	}

	if _, _, err := run("", "add", "--name", "db", "--destination", "db.example.com:5432", "--tag", "prod"); err != nil {
		t.Fatal(err)
	}
	// The desktop app's view of the same file.
	list, err := saved.NewStore(store).List()
	if err != nil || len(list) != 1 || list[0].Name != "db" {
		t.Fatalf("library sees %+v, %v; want the db connection", list, err)
	}
	if st, err := os.Stat(store); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("store mode: %v, %v; want 600", st, err)
	}
	out, _, err := run("", "list", "--tag", "prod")
	if err != nil || !strings.Contains(out, "db.example.com:5432") || !strings.HasPrefix(out, "NAME") {
		t.Errorf("list: %q, %v; want a table with db", out, err)
	}
	exported, _, err := run("", "export", "--format", "pomerium-desktop")
	if err != nil || !strings.Contains(exported, "pomerium.cli.Records") {
		t.Fatalf("export: %v\n%s", err, exported)
	}
	if _, _, err := run("", "rm", "db"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := run(exported, "import", "-"); err != nil || !strings.Contains(errOut, "1 added") {
		t.Errorf("import -: %q, %v; want 1 added", errOut, err)
	}
	_, errOut, err := run("", "rm", "nope")
	if code := exitCode(err); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("rm nope: exit %d, %q; want exit 1 naming it", code, errOut)
	}
	if _, _, err := run("", "add", "--name"); exitCode(err) != 2 {
		t.Errorf("add --name without a value: exit %d; want 2 (usage)", exitCode(err))
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
