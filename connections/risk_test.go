package connections

import (
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

func TestRisks(t *testing.T) {
	home := "/home/u"
	for _, tc := range []struct {
		name string
		c    Connection
		want []string // one substring per expected risk, in order
	}{
		{"loopback v4", Connection{ListenAddr: "127.0.0.1:5432"}, nil},
		{"loopback v4 other", Connection{ListenAddr: "127.8.9.1:5432"}, nil},
		{"loopback v6", Connection{ListenAddr: "[::1]:5432"}, nil},
		{"localhost", Connection{ListenAddr: "localhost:5432"}, nil},
		{"free port", Connection{}, nil},
		{"all interfaces, empty host", Connection{ListenAddr: ":5432"}, []string{"every network interface"}},
		{"0.0.0.0", Connection{ListenAddr: "0.0.0.0:5432"}, []string{"every network interface"}},
		{"[::]", Connection{ListenAddr: "[::]:5432"}, []string{"every network interface"}},
		{"lan address", Connection{ListenAddr: "192.168.1.5:5432"}, []string{"not loopback"}},
		{"public v6", Connection{ListenAddr: "[2001:db8::1]:5432"}, []string{"not loopback"}},
		{"host name", Connection{ListenAddr: "myhost.example:5432"}, []string{"host name"}},
		{"autostart", Connection{Autostart: true}, []string{"starts on its own"}},
		{"key in home", Connection{TLS: tlsconfig.Options{ClientKeyFile: "/home/u/.certs/k.pem", ClientCertFile: "/home/u/c.pem"}}, nil},
		{"key outside home", Connection{TLS: tlsconfig.Options{ClientKeyFile: "/etc/ssl/private/k.pem"}}, []string{"client key file /etc/ssl/private/k.pem"}},
		{"key escapes home with ..", Connection{TLS: tlsconfig.Options{ClientKeyFile: "/home/u/../v/k.pem"}}, []string{"client key file"}},
		{"home prefix is not home", Connection{TLS: tlsconfig.Options{ClientKeyFile: "/home/u2/k.pem"}}, []string{"client key file"}},
		{"cert outside home", Connection{TLS: tlsconfig.Options{ClientCertFile: "/tmp/c.pem"}}, []string{"client certificate file"}},
		{"all at once", Connection{ListenAddr: "0.0.0.0:1", Autostart: true, TLS: tlsconfig.Options{ClientKeyFile: "/k"}},
			[]string{"every network interface", "starts on its own", "client key file /k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Risks(tc.c, home)
			if len(got) != len(tc.want) {
				t.Fatalf("Risks = %q; want %d risks like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("risk %d = %q; want it to mention %q", i, got[i], w)
				}
			}
		})
	}
	old := Connection{ListenAddr: "0.0.0.0:1", Autostart: true}
	if got := RisksAdded(&old, old, home); len(got) != 0 {
		t.Errorf("RisksAdded(same) = %q; want none", got)
	}
	moved := old
	moved.ListenAddr = "10.0.0.1:1"
	if got := RisksAdded(&old, moved, home); len(got) != 1 || !strings.Contains(got[0], "10.0.0.1") {
		t.Errorf("RisksAdded(new listen) = %q; want the new address only", got)
	}
}
