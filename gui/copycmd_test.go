package gui

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/shellquote"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// TestCopyCommand: the copied command carries every TLS option the
// connection uses, and a shell splits it back into exactly the words the
// CLI needs, whatever the paths hold.
func TestCopyCommand(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	pem := "-----BEGIN CERTIFICATE-----\nMIIB'x\n-----END CERTIFICATE-----\n"
	for _, tc := range []struct {
		name    string
		c       connections.Connection
		running string
		want    []string
	}{
		{"plain", connections.Connection{Name: "db", Destination: "tcp+https://proxy.example.com/db:5432", ListenAddr: "127.0.0.1:5432"}, "",
			[]string{"pomerium-cli", "tcp", "tcp+https://proxy.example.com/db:5432", "--listen", "127.0.0.1:5432"}},
		{"picked port while running", connections.Connection{Name: "db", Destination: "db.example.com:5432", PomeriumURL: "https://proxy.example.com:8443"}, "127.0.0.1:40001",
			[]string{"pomerium-cli", "tcp", "db.example.com:5432", "--listen", "127.0.0.1:40001", "--pomerium-url", "https://proxy.example.com:8443"}},
		{"udp with every TLS option", connections.Connection{Name: "dns", Protocol: "udp", Destination: "udp+https://proxy.example.com/dns:53",
			TLS: tlsconfig.Options{CAFile: "/home/me/my CAs/it's.pem", CACert: pem, ClientCertFile: "/tmp/$(id).crt", ClientKeyFile: "/tmp/`id`.key", DisableVerification: true}}, "",
			[]string{"pomerium-cli", "udp", "udp+https://proxy.example.com/dns:53", "--alternate-ca-path", "/home/me/my CAs/it's.pem", "--ca-cert", pem,
				"--client-cert", "/tmp/$(id).crt", "--client-key", "/tmp/`id`.key", "--disable-tls-verification"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, err := cliCommand(tc.c, tc.running)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(sh, "-c", `set -- `+line+`; for w in "$@"; do printf '%s\0' "$w"; done`).Output()
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if err != nil || strings.Join(got, "\x01") != strings.Join(tc.want, "\x01") {
				t.Errorf("command %s\nsh splits it as %q (%v)\nwant %q", line, got, err, tc.want)
			}
		})
	}

	t.Run("hostile values are refused, not copied", func(t *testing.T) {
		for _, s := range termtest.Samples {
			c := connections.Connection{Name: "x", Destination: "db:5432", TLS: tlsconfig.Options{CAFile: s}}
			line, err := cliCommand(c, "")
			if err == nil {
				if termtest.Check(line, false) != nil {
					t.Errorf("CA file %q: copied %q with raw controls", s, line)
				}
				continue
			}
			if !errors.Is(err, shellquote.ErrControl) {
				t.Errorf("CA file %q: got %v; want ErrControl", s, err)
			}
		}
	})

	t.Run("button copies to the clipboard", func(t *testing.T) {
		f := newFixture(t, []connections.Connection{{Name: "db", Destination: "tcp+https://proxy.example.com/db:5432", ListenAddr: "127.0.0.1:15432",
			TLS: tlsconfig.Options{CAFile: "/etc/ssl/my ca.pem"}}})
		test.Tap(f.w.detail.copyCmdBtn)
		want := "pomerium-cli tcp tcp+https://proxy.example.com/db:5432 --listen 127.0.0.1:15432 --alternate-ca-path '/etc/ssl/my ca.pem'"
		if got := f.app.Clipboard().Content(); got != want {
			t.Errorf("clipboard: got %q; want %q", got, want)
		}
	})
}
