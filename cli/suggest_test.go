package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.ConfigDir = t.TempDir()
	code := Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// TestDidYouMean: a typo at any level names the nearest real command or
// flag on the error's one line, exit 2.
func TestDidYouMean(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"rotes", "list"}, `unknown command "rotes" for "pomerium-cli"; did you mean pomerium-cli routes?`},
		{[]string{"routes", "lst"}, `unknown command "lst" for pomerium-cli routes; did you mean pomerium-cli routes list?`},
		{[]string{"conections"}, "did you mean pomerium-cli connections?"},
		{[]string{"connections", "lst"}, "did you mean pomerium-cli connections list?"},
		{[]string{"servers", "forgt", "x"}, "did you mean pomerium-cli servers forget?"},
		{[]string{"k8s", "exec"}, "did you mean pomerium-cli k8s exec-credential?"},
		{[]string{"statsu"}, "did you mean pomerium-cli status?"},
		{[]string{"routes", "list", "--alternat-ca-path", "x"}, "unknown flag: --alternat-ca-path; did you mean --alternate-ca-path?"},
		{[]string{"tcp", "x", "--listn", "1"}, "did you mean --listen?"},
		{[]string{"routes", "zzzzzz"}, `unknown command "zzzzzz" for pomerium-cli routes: try pomerium-cli routes list`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != 2 || !strings.Contains(lines[0], tt.want) || len(lines) != 2 || out != "" {
				t.Errorf("exit %d, stderr %q; want 2 and one error line holding %q (then the --help line)", code, errOut, tt.want)
			}
		})
	}
	if code, out, _ := runCLI(t, "k8s"); code != 0 || !strings.Contains(out, "exec-credential") {
		t.Errorf("bare k8s: exit %d, %q; want its help", code, out)
	}
}

// TestHelpGroupsSharedFlags: the TLS and sign-in flags have headings of
// their own: in full on the root's help, by name elsewhere.
func TestHelpGroupsSharedFlags(t *testing.T) {
	_, root, _ := runCLI(t, "--help")
	tls := strings.Index(root, "\nTLS flags:\n")
	signin := strings.Index(root, "\nSign-in flags:\n")
	if tls < 0 || signin < 0 || !strings.Contains(root[tls:signin], "--alternate-ca-path file") || !strings.Contains(root[signin:], "--browser-cmd command") {
		t.Errorf("root help lacks the grouped flags in full:\n%s", root)
	}
	_, tcp, _ := runCLI(t, "tcp", "--help")
	for _, want := range []string{
		"\nFlags:\n", "--listen address",
		"TLS flags (see pomerium-cli --help):\n  --alternate-ca-path --ca-cert --client-cert --client-key --disable-tls-verification\n",
		"Sign-in flags (see pomerium-cli --help):\n  --browser-cmd --device --login-timeout --no-browser --service-account --service-account-file\n",
		"Global Flags:\n      --verbose",
	} {
		if !strings.Contains(tcp, want) {
			t.Errorf("tcp --help lacks %q:\n%s", want, tcp)
		}
	}
	if strings.Count(tcp, "path to a PEM file of CA certificates") != 0 {
		t.Errorf("tcp --help repeats the TLS flags' descriptions:\n%s", tcp)
	}
}

// The names inside cobra's and pflag's own messages, as suggestFor reads
// them.
func TestUnknownNames(t *testing.T) {
	for _, tc := range []struct {
		msg, cmd, flag string
	}{
		{`unknown command "rotes" for "pomerium-cli"`, "rotes", ""},
		{`unknown command "" for "pomerium-cli"`, "", ""},
		{`unknown command "rotes"`, "", ""},
		{"unknown flag: --lisen", "", "lisen"},
		{"unknown shorthand flag: 'x' in -x", "", "x"},
		{"unknown flag: --", "", ""},
		{"flag needs an argument: --listen", "", ""},
		{"", "", ""},
	} {
		if name, ok := unknownCommand(tc.msg); name != tc.cmd || ok != (tc.cmd != "" || tc.msg == `unknown command "" for "pomerium-cli"`) {
			t.Errorf("unknownCommand(%q) = %q, %v; want %q", tc.msg, name, ok, tc.cmd)
		}
		if name, ok := unknownFlag(tc.msg); name != tc.flag || ok != (tc.flag != "") {
			t.Errorf("unknownFlag(%q) = %q, %v; want %q", tc.msg, name, ok, tc.flag)
		}
	}
}
