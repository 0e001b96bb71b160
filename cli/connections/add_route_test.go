package connections_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	clicon "github.com/porthole-dev/porthole/cli/connections"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/portalclient"
)

// TestAddRoute: `connections add --route NAME` from a fresh routes cache
// (so nothing here touches the network): what it saves, and what it
// refuses.
func TestAddRoute(t *testing.T) {
	const server = "https://proxy.example.com:8443"
	setup := func(t *testing.T) (*cmdutil.Factory, string, func() string) {
		dir := t.TempDir()
		ios, _, out, errOut := cmdutil.TestIO()
		f := &cmdutil.Factory{IO: ios, ConfigDir: filepath.Join(dir, "config"), CacheDir: filepath.Join(dir, "cache")}
		u, _ := cmdutil.ParseServerURL(server)
		f.Opts.TLS.CAFile = "/etc/proxy-ca.pem" // as given at login: remembered with the server
		if err := f.SaveLastServer(server); err != nil {
			t.Fatal(err)
		}
		f.Opts.TLS.CAFile = ""
		if err := f.SaveRoutes(u, []portalclient.Route{
			{Name: "db", Type: "tcp", From: "tcp+https://db.example.com:5432"},
			{Name: "echo", Type: "tcp", From: "tcp+https://proxy.example.com:8443/echo.internal:7000"},
			{Name: "dns", Type: "udp", From: "udp+https://dns.example.com:53"},
			{Name: "web", Type: "http", From: "https://web.example.com"},
		}); err != nil {
			t.Fatal(err)
		}
		_ = out
		return f, filepath.Join(dir, "connections.json"), errOut.String
	}
	run := func(f *cmdutil.Factory, store string, args ...string) error {
		root := f.NewRootCommand()
		root.AddCommand(clicon.NewCmdConnections(f))
		root.SetArgs(append([]string{"connections", "add", "--store", store}, args...))
		return root.Execute()
	}
	tests := []struct {
		name    string
		args    []string
		want    saved.Connection
		wantErr string
		usage   bool
	}{
		{name: "host form", args: []string{"--route", "db", "--listen", "127.0.0.1:5432"},
			want: saved.Connection{Name: "db", Destination: "tcp+https://db.example.com:5432", ListenAddr: "127.0.0.1:5432", PomeriumURL: server}},
		{name: "path form", args: []string{"--route", "echo", "--name", "my-echo"},
			want: saved.Connection{Name: "my-echo", Destination: "tcp+https://proxy.example.com:8443/echo.internal:7000"}},
		{name: "udp", args: []string{"--route", "dns"},
			want: saved.Connection{Name: "dns", Destination: "udp+https://dns.example.com:53", Protocol: "udp", PomeriumURL: server}},
		{name: "own TLS flags win", args: []string{"--route", "db", "--alternate-ca-path", "/other-ca.pem"},
			want: saved.Connection{Name: "db", Destination: "tcp+https://db.example.com:5432", PomeriumURL: server}},
		{name: "own pomerium-url wins", args: []string{"--route", "db", "--pomerium-url", "https://other.example.com"},
			want: saved.Connection{Name: "db", Destination: "tcp+https://db.example.com:5432", PomeriumURL: "https://other.example.com"}},
		{name: "http route", args: []string{"--route", "web"}, wantErr: `no tcp or udp route named "web"`},
		{name: "both", args: []string{"--route", "db", "--destination", "a:1"}, wantErr: "give one", usage: true},
		{name: "empty", args: []string{"--route", ""}, wantErr: "give a route name", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, store, stderr := setup(t)
			err := run(f, store, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || cmdutil.IsUsageError(err) != tt.usage {
					t.Fatalf("error = %v; want one holding %q (usage error: %v)", err, tt.wantErr, tt.usage)
				}
				if list, _ := saved.NewStore(store).List(); len(list) != 0 {
					t.Errorf("saved %+v; want nothing saved on error", list)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			list, err := saved.NewStore(store).List()
			if err != nil || len(list) != 1 {
				t.Fatalf("store holds %+v, %v; want one connection", list, err)
			}
			c := list[0]
			if c.Name != tt.want.Name || c.Destination != tt.want.Destination || c.Protocol != tt.want.Protocol ||
				c.PomeriumURL != tt.want.PomeriumURL || c.ListenAddr != tt.want.ListenAddr {
				t.Errorf("saved %+v; want %+v", c, tt.want)
			}
			wantCA := "/etc/proxy-ca.pem"
			if strings.Contains(tt.name, "TLS") {
				wantCA = "/other-ca.pem"
			}
			if c.TLS.CAFile != wantCA {
				t.Errorf("saved CA %q; want %q", c.TLS.CAFile, wantCA)
			}
			if !strings.Contains(stderr(), "Route ") {
				t.Errorf("stderr %q; want the route named", stderr())
			}
		})
	}
}
