package tcp

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/tunnel"
)

func TestNewCmdTCPFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     TCPOptions
		wantTLS  bool
		wantCA   string
		wantErr  bool
		wantTime time.Duration
	}{
		{name: "defaults", args: []string{"db.example.com:5432"},
			want: TCPOptions{Destination: "db.example.com:5432", Listen: "127.0.0.1:0"}, wantTime: cmdutil.DefaultLoginTimeout},
		{name: "all flags", args: []string{"tcp+https://p/db:5432", "--listen", "-", "--pomerium-url", "https://p:8443", "--http1",
			"--disable-tls-verification", "--alternate-ca-path", "/ca.pem", "--login-timeout", "1m"},
			want:    TCPOptions{Destination: "tcp+https://p/db:5432", Listen: "-", PomeriumURL: "https://p:8443", HTTP1: true},
			wantTLS: true, wantCA: "/ca.pem", wantTime: time.Minute},
		{name: "missing destination", args: nil, wantErr: true},
		{name: "two destinations", args: []string{"a:1", "b:2"}, wantErr: true},
		{name: "unknown flag", args: []string{"a:1", "--lsten", "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := cmdutil.TestIO()
			f := &cmdutil.Factory{IO: ios}
			var got *TCPOptions
			root := f.NewRootCommand()
			root.AddCommand(NewCmdTCP(f, func(o *TCPOptions) error { got = o; return nil }))
			root.SetArgs(append([]string{"tcp"}, tt.args...))
			err := root.Execute()
			if tt.wantErr {
				if !cmdutil.IsUsageError(err) {
					t.Fatalf("error = %v; want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Destination != tt.want.Destination || got.Listen != tt.want.Listen ||
				got.PomeriumURL != tt.want.PomeriumURL || got.HTTP1 != tt.want.HTTP1 {
				t.Errorf("options = %+v; want %+v", *got, tt.want)
			}
			if f.Opts.TLS.DisableVerification != tt.wantTLS || f.Opts.TLS.CAFile != tt.wantCA {
				t.Errorf("TLS options = %+v; want disable=%v ca=%q", f.Opts.TLS, tt.wantTLS, tt.wantCA)
			}
			if f.Opts.LoginTimeout != tt.wantTime {
				t.Errorf("login timeout = %v; want %v", f.Opts.LoginTimeout, tt.wantTime)
			}
		})
	}
}

func TestEventFormat(t *testing.T) {
	dest := tunnel.Destination{Proxy: &url.URL{Scheme: "https", Host: "p:8443"}, Authority: "echo.internal:7000"}
	p := &eventPrinter{dest: dest}
	pv := &eventPrinter{dest: dest, verbose: true}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "closed", got: p.format(evClosed()), want: "[#3] closed: sent 5 B, received 2.0 MiB"},
		{name: "error", got: p.format(evError()), want: "[#3] error: access denied"},
		{name: "error with a hint", got: p.format(tunnel.Event{Kind: tunnel.EventError, ConnID: 4,
			Err: &tunnel.StatusError{Proxy: "https://p:8443", Authority: "nosuch:1", StatusCode: 404}}),
			want: "[#4] error: no route for nosuch:1 on https://p:8443 (404); hint: see the routes you may use: pomerium-cli routes list https://p:8443"},
		{name: "connecting", got: p.format(evConnecting()), want: "[#3] connecting to echo.internal:7000"},
		{name: "connecting verbose", got: pv.format(evConnecting()), want: "[#3] connecting to echo.internal:7000 via https://p:8443 from 127.0.0.1:5555"},
		{name: "closed verbose", got: pv.format(evClosed()), want: "[#3] closed: sent 5 B, received 2.0 MiB in 1.5s"},
		{name: "listening is printed by tcpRun", got: p.format(evListening()), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("format = %q; want %q", tt.got, tt.want)
			}
		})
	}
}

// Destinations, peers and errors (a proxy's error body) are printed escaped.
func TestEventFormatEscapes(t *testing.T) {
	for _, s := range termtest.Samples {
		dest := tunnel.Destination{Proxy: &url.URL{Scheme: "https", Host: "p:8443", Path: "/" + s}, Authority: s}
		for _, verbose := range []bool{false, true} {
			var out strings.Builder
			p := &eventPrinter{w: &out, dest: dest, verbose: verbose}
			for _, e := range []tunnel.Event{evConnecting(), evError(), evClosed(),
				{Kind: tunnel.EventError, ConnID: 1, Err: errors.New("proxy said: " + s)},
				{Kind: tunnel.EventConnecting, ConnID: 2, Addr: s},
				{Kind: tunnel.EventSignIn, ConnID: 2, SignInURL: "https://p/" + s},
				{Kind: tunnel.EventConnected, ConnID: 2}} {
				p.print(e)
			}
			if err := termtest.Check(out.String(), false); err != nil {
				t.Errorf("payload %q verbose=%v: %v", s, verbose, err)
			}
		}
	}
}
