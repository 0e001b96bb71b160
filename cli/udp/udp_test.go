package udp

import (
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/tunnel"
)

func TestNewCmdUDP(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    UDPOptions
		run     bool   // run udpRun (only for refusals made before any network use)
		wantErr string // substring; usage errors all
	}{
		{name: "defaults", args: []string{"dns"},
			want: UDPOptions{Destination: "dns", Listen: "127.0.0.1:0", IdleTimeout: tunnel.DefaultUDPIdleTimeout}},
		{name: "all flags", args: []string{"udp+https://p/dns:53", "--listen", "127.0.0.1:5353", "--pomerium-url", "https://p:8443", "--http1", "--idle-timeout", "30s"},
			want: UDPOptions{Destination: "udp+https://p/dns:53", Listen: "127.0.0.1:5353", PomeriumURL: "https://p:8443", HTTP1: true, IdleTimeout: 30 * time.Second}},
		{name: "missing destination", args: nil, wantErr: "missing destination"},
		{name: "two destinations", args: []string{"a:1", "b:2"}, wantErr: "too many arguments"},
		{name: "stdio", args: []string{"a:1", "--listen", "-"}, run: true, wantErr: "not supported for udp"},
		{name: "zero idle timeout", args: []string{"a:1", "--idle-timeout", "0s"}, run: true, wantErr: "--idle-timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := cmdutil.TestIO()
			f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), CacheDir: t.TempDir()}
			var got *UDPOptions
			runF := func(o *UDPOptions) error { got = o; return nil }
			if tt.run {
				runF = udpRun
			}
			root := f.NewRootCommand()
			root.AddCommand(NewCmdUDP(f, runF))
			root.SetArgs(append([]string{"udp"}, tt.args...))
			err := root.Execute()
			if tt.wantErr != "" {
				if !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want a usage error holding %q", err, tt.wantErr)
				}
				if out.Len() != 0 || strings.Contains(errOut.String(), "Listening") {
					t.Errorf("stdout %q, stderr %q; want nothing started", out, errOut)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Destination != tt.want.Destination || got.Listen != tt.want.Listen || got.PomeriumURL != tt.want.PomeriumURL ||
				got.HTTP1 != tt.want.HTTP1 || got.IdleTimeout != tt.want.IdleTimeout {
				t.Errorf("options = %+v; want %+v", *got, tt.want)
			}
		})
	}
}
