package proxy

import (
	"testing"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

func TestUnderDomain(t *testing.T) {
	domains := []string{"internal", "corp.example.com"}
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"internal", true}, {"db.internal", true}, {"a.b.internal", true}, {"DB.Internal.", true},
		{"corp.example.com", true}, {"db.corp.example.com", true},
		// Suffixes that are not a label boundary are other domains.
		{"evilinternal", false}, {"db.evilcorp.example.com", false}, {"example.com", false},
		{"internal.evil.com", false}, {"", false},
	} {
		if got := underDomain(tc.host, domains); got != tc.want {
			t.Errorf("underDomain(%q): got %v; want %v", tc.host, got, tc.want)
		}
	}
}

func TestNewCmdProxyFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
		domains []string
		listen  string
	}{
		{"default listen", []string{"--proxy-domain", "internal"}, false, []string{"internal"}, DefaultListen},
		{"two domains, normalised", []string{"--proxy-domain", ".Internal.", "--proxy-domain", "corp.example.com", "--listen", "127.0.0.1:0"}, false, []string{"internal", "corp.example.com"}, "127.0.0.1:0"},
		{"no domain", nil, true, nil, ""},
		{"wildcard", []string{"--proxy-domain", "*.internal"}, true, nil, ""},
		{"url", []string{"--proxy-domain", "https://internal"}, true, nil, ""},
		{"argument", []string{"--proxy-domain", "internal", "extra"}, true, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _, _ := cmdutil.TestIO()
			var got *ProxyOptions
			cmd := NewCmdProxy(&cmdutil.Factory{IO: ios}, func(o *ProxyOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if tc.wantErr {
				if !cmdutil.IsUsageError(err) {
					t.Fatalf("error %v; want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Domains) != len(tc.domains) || got.Listen != tc.listen {
				t.Fatalf("got domains %q listen %q; want %q %q", got.Domains, got.Listen, tc.domains, tc.listen)
			}
			for i := range tc.domains {
				if got.Domains[i] != tc.domains[i] {
					t.Errorf("domain %d: got %q; want %q", i, got.Domains[i], tc.domains[i])
				}
			}
		})
	}
}

// TestRefusalsEscaped: a hostile CONNECT target never reaches the
// terminal raw in the refusal line.
func TestRefusalsEscaped(t *testing.T) {
	for _, s := range termtest.Samples {
		line := "refused CONNECT to " + termtext.Escape(s+":443")
		if err := termtest.Check(line, false); err != nil {
			t.Errorf("sample %q: %v", s, err)
		}
	}
}
