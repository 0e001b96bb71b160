package servers

import (
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
)

func TestListAndForget(t *testing.T) {
	ios, _, out, errOut := cmdutil.TestIO()
	f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), CacheDir: t.TempDir()}
	run := func(args ...string) error {
		out.Reset()
		errOut.Reset()
		root := f.NewRootCommand()
		root.AddCommand(NewCmdServers(f))
		root.SetArgs(args)
		return root.Execute()
	}
	if err := run("servers", "list"); err != nil || out.Len() != 0 || !strings.Contains(errOut.String(), "No remembered servers") {
		t.Fatalf("empty list: %v, out %q, err %q", err, out, errOut)
	}
	if err := run("servers", "list", "-o", "json"); err != nil || strings.TrimSpace(out.String()) != "[]" {
		t.Fatalf("empty json list: %v, %q; want []", err, out)
	}
	f.Opts.TLS = tlsconfig.Options{CAFile: "/etc/ca.pem"}
	if err := f.SaveLastServer("https://proxy.example.com"); err != nil {
		t.Fatal(err)
	}
	f.Opts.TLS = tlsconfig.Options{}
	if err := run("servers", "list"); err != nil || !strings.Contains(out.String(), "*  https://proxy.example.com  --alternate-ca-path /etc/ca.pem") {
		t.Fatalf("list: %v, %q", err, out)
	}
	if err := run("servers", "list", "-o", "yaml"); err != nil || !strings.Contains(out.String(), "alternate_ca_path: /etc/ca.pem") {
		t.Fatalf("yaml: %v, %q", err, out)
	}
	if err := run("servers", "list", "-o", "xml"); !cmdutil.IsUsageError(err) {
		t.Errorf("-o xml: %v; want a usage error", err)
	}
	if err := run("servers", "forget", "ftp://x"); !cmdutil.IsUsageError(err) {
		t.Errorf("forget ftp://x: %v; want a usage error", err)
	}
	pu, _ := cmdutil.ParseServerURL("https://proxy.example.com")
	if err := f.SaveRoutes(pu, []portalclient.Route{{Name: "echo", Type: "tcp"}}); err != nil {
		t.Fatal(err)
	}
	if err := run("servers", "forget", "proxy.example.com"); err != nil || !strings.Contains(errOut.String(), "Forgot https://proxy.example.com") {
		t.Fatalf("forget: %v, %q", err, errOut)
	}
	if rs, _, err := f.CachedRoutes(pu); err != nil || rs != nil {
		t.Errorf("cached routes after forget: %+v, %v; want none left", rs, err)
	}
	if err := run("servers", "forget", "proxy.example.com"); err == nil || !strings.Contains(err.Error(), "servers list") {
		t.Errorf("forget twice: %v; want an error with the list hint", err)
	}
}
