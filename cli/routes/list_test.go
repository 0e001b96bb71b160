package routes

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
)

func TestNewCmdListFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantServer string
		wantOutput string
		wantErr    bool
	}{
		{name: "defaults (not a terminal)", args: nil, wantOutput: "block"},
		{name: "explicit table", args: []string{"-o", "table"}, wantOutput: "table"},
		{name: "server and json", args: []string{"https://p.example.com", "--output", "json"}, wantServer: "https://p.example.com", wantOutput: "json"},
		{name: "shorthand yaml", args: []string{"-o", "yaml"}, wantOutput: "yaml"},
		{name: "bad output", args: []string{"-o", "xml"}, wantErr: true},
		{name: "two servers", args: []string{"a", "b"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := cmdutil.TestIO()
			f := &cmdutil.Factory{IO: ios}
			var got *ListOptions
			cmd := NewCmdList(f, func(o *ListOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if tt.wantErr {
				if !cmdutil.IsUsageError(err) {
					t.Fatalf("error = %v; want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ServerURL != tt.wantServer || got.Output != tt.wantOutput {
				t.Errorf("got server %q output %q; want %q %q", got.ServerURL, got.Output, tt.wantServer, tt.wantOutput)
			}
		})
	}
}

var sample = []portalclient.Route{
	{ID: "1", Name: "echo", Type: "tcp", From: "tcp+https://p:8443/echo.internal:7000", ConnectCommand: "pomerium-cli tcp tcp+https://p:8443/echo.internal:7000"},
	{ID: "2", Name: "web\tapp", Type: "http", From: "https://web.example.com", Description: "a web app"},
}

func TestWriteRoutes(t *testing.T) {
	t.Run("table", func(t *testing.T) {
		ios, _, out, _ := cmdutil.TestIO()
		if err := writeRoutes(ios, "table", sample); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("table has %d lines; want 3:\n%s", len(lines), out)
		}
		if f := strings.Fields(lines[0]); strings.Join(f, " ") != "NAME TYPE FROM CONNECT COMMAND" {
			t.Errorf("header = %q; want NAME TYPE FROM CONNECT COMMAND", lines[0])
		}
		if f := strings.Fields(lines[1]); f[0] != "echo" || f[1] != "tcp" || f[3] != "pomerium-cli" {
			t.Errorf("row 1 = %q; want echo tcp ... pomerium-cli tcp ...", lines[1])
		}
		if strings.Contains(lines[2], "\t") || !strings.HasSuffix(lines[2], "-") {
			t.Errorf("row 2 = %q; want no tab and - for no connect command", lines[2])
		}
	})
	t.Run("json", func(t *testing.T) {
		ios, _, out, _ := cmdutil.TestIO()
		if err := writeRoutes(ios, "json", sample); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("json output does not parse: %v\n%s", err, out)
		}
		if len(got) != 2 || got[0]["connect_command"] != sample[0].ConnectCommand || got[1]["description"] != "a web app" {
			t.Errorf("json = %v; want the routes field for field", got)
		}
		if _, ok := got[1]["connect_command"]; ok {
			t.Errorf("json for an http route has connect_command; want it absent as on the wire")
		}
	})
	t.Run("json empty is []", func(t *testing.T) {
		ios, _, out, _ := cmdutil.TestIO()
		if err := writeRoutes(ios, "json", nil); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out.String()); got != "[]" {
			t.Errorf("json of no routes = %q; want []", got)
		}
	})
	t.Run("yaml", func(t *testing.T) {
		ios, _, out, _ := cmdutil.TestIO()
		if err := writeRoutes(ios, "yaml", sample); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := yaml.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("yaml does not parse: %v", err)
		}
		if len(got) != 2 || got[0]["connect_command"] != sample[0].ConnectCommand {
			t.Errorf("yaml = %v; want wire key names", got)
		}
	})
	t.Run("table empty says so on stderr", func(t *testing.T) {
		ios, _, out, errOut := cmdutil.TestIO()
		if err := writeRoutes(ios, "table", nil); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || !strings.Contains(errOut.String(), "No routes") {
			t.Errorf("stdout %q stderr %q; want nothing on stdout and a notice on stderr", out, errOut)
		}
	})
}

// TestNewCmdListDefaultOnTerminal: a terminal gets the table by default.
func TestNewCmdListDefaultOnTerminal(t *testing.T) {
	ios, _, _, _ := cmdutil.TestIO()
	ios.OutTTY = true
	var got *ListOptions
	cmd := NewCmdList(&cmdutil.Factory{IO: ios}, func(o *ListOptions) error { got = o; return nil })
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Output != "table" {
		t.Errorf("output on a terminal: got %q; want table", got.Output)
	}
}

// TestWriteBlocksGolden: the block format is the real pomerium-cli's,
// byte for byte (testdata/list_block.golden was written from its
// routes.go: Println per field, "description: " even when empty, no
// connect_command line for http routes, a blank line after each).
func TestWriteBlocksGolden(t *testing.T) {
	routes := []portalclient.Route{
		{ID: "c7cc6f3995e8c6e4", Name: "postgres", Type: "tcp", From: "tcp+https://postgres.example.com:5432",
			ConnectCommand: "pomerium-cli tcp postgres.example.com:5432"},
		{ID: "2116ef165e888f1a", Name: "verify", Type: "http", From: "https://verify.example.com", Description: "Verify service"},
		{ID: "9a3b5c7d9e1f2a4b", Name: "dns", Type: "udp", From: "udp+https://dns.example.com:53",
			ConnectCommand: "pomerium-cli udp dns.example.com:53"},
	}
	ios, _, out, _ := cmdutil.TestIO()
	if err := writeRoutes(ios, "block", routes); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/list_block.golden")
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("block output:\n%q\nwant (testdata/list_block.golden):\n%q", out.String(), want)
	}
}

// TestWriteBlocksHostile: server-supplied fields cannot break a block
// apart or drive the terminal.
func TestWriteBlocksHostile(t *testing.T) {
	for _, s := range termtest.Samples {
		ios, _, out, _ := cmdutil.TestIO()
		r := portalclient.Route{ID: s, Name: s, Type: "tcp", From: s, Description: s, ConnectCommand: s}
		if err := writeRoutes(ios, "block", []portalclient.Route{r}); err != nil {
			t.Fatal(err)
		}
		if err := termtest.Check(out.String(), false); err != nil {
			t.Errorf("sample %q: %v", s, err)
		}
		if n := strings.Count(out.String(), "\n"); n != 7 {
			t.Errorf("sample %q: block has %d lines; want 7 (one per field and a blank)", s, n)
		}
	}
}

func TestListNoServerRemembered(t *testing.T) {
	ios, _, _, _ := cmdutil.TestIO()
	f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir()}
	err := listRun(&ListOptions{IO: ios, Factory: f, Output: "table"})
	if !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), "none remembered") {
		t.Fatalf("error = %v; want a usage error saying none is remembered", err)
	}
}
