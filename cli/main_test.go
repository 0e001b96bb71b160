package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

// run executes the CLI in-process with isolated config and cache dirs.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.ConfigDir = t.TempDir()
	f.CacheDir = t.TempDir()
	code = Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string // substrings
		wantStdout string   // substring
	}{
		{name: "version", args: []string{"version"}, wantCode: 0, wantStdout: "pomerium-cli dev"},
		{name: "--version", args: []string{"--version"}, wantCode: 0, wantStdout: "pomerium-cli dev"},
		{name: "help", args: []string{"--help"}, wantCode: 0, wantStdout: "routes"},
		{name: "completion bash", args: []string{"completion", "bash"}, wantCode: 0, wantStdout: "__start_pomerium-cli"},
		{name: "completion zsh", args: []string{"completion", "zsh"}, wantCode: 0, wantStdout: "#compdef pomerium-cli"},
		{name: "complete subcommands", args: []string{"__complete", "rou"}, wantCode: 0, wantStdout: "routes"},
		{name: "complete output values", args: []string{"__complete", "routes", "list", "--output", ""}, wantCode: 0, wantStdout: "yaml"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2,
			wantStderr: []string{`Error: unknown command "frobnicate"`, "Run 'pomerium-cli --help' for usage."}},
		{name: "unknown flag", args: []string{"tcp", "--nope", "a:1"}, wantCode: 2,
			wantStderr: []string{"Error: unknown flag: --nope", "Run 'pomerium-cli tcp --help' for usage."}},
		{name: "tcp missing destination", args: []string{"tcp"}, wantCode: 2,
			wantStderr: []string{"Error: missing destination", "Run 'pomerium-cli tcp --help' for usage."}},
		{name: "routes unknown subcommand", args: []string{"routes", "lst"}, wantCode: 2, wantStderr: []string{`unknown command "lst"`, "Run 'pomerium-cli routes --help'"}},
		{name: "routes pick without a terminal", args: []string{"routes", "pick", "https://p.example.com"}, wantCode: 1,
			wantStderr: []string{"Error: routes pick needs a terminal"}},
		{name: "routes alone", args: []string{"routes"}, wantCode: 2, wantStderr: []string{"missing subcommand"}},
		{name: "login with nothing remembered", args: []string{"login"}, wantCode: 2, wantStderr: []string{"Error: no server URL given and none remembered: run pomerium-cli login https://proxy.example.com"}},
		{name: "login two urls", args: []string{"login", "https://a", "https://b"}, wantCode: 2, wantStderr: []string{"Error: too many arguments"}},
		{name: "auth missing url", args: []string{"auth"}, wantCode: 2, wantStderr: []string{"Error: missing server URL"}},
		{name: "routes list nothing remembered", args: []string{"routes", "list"}, wantCode: 2,
			wantStderr: []string{"none remembered", "Run 'pomerium-cli routes list --help' for usage."}},
		{name: "routes list bad output", args: []string{"routes", "list", "https://p", "-o", "xml"}, wantCode: 2,
			wantStderr: []string{`--output "xml"`}},
		{name: "login http url", args: []string{"login", "http://p.example.com"}, wantCode: 1,
			wantStderr: []string{`Error: server URL "http://p.example.com": scheme "http" not supported`}},
		{name: "logout both", args: []string{"logout", "https://p", "--all"}, wantCode: 2, wantStderr: []string{"not both"}},
		{name: "bad login timeout", args: []string{"--login-timeout", "soon", "version"}, wantCode: 2, wantStderr: []string{"--login-timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d; want %d\nstderr: %s", code, tt.wantCode, stderr)
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr = %q; want it to contain %q", stderr, s)
				}
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout = %q; want it to contain %q", stdout, tt.wantStdout)
			}
			if code != 0 && strings.Count(stderr, "Error:") != 1 {
				t.Errorf("stderr has %d Error: lines; want exactly 1:\n%s", strings.Count(stderr, "Error:"), stderr)
			}
		})
	}
}

func TestGlobalFlagsOnEveryCommand(t *testing.T) {
	f := NewFactory(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	root := NewCmdRoot(f)
	for _, c := range root.Commands() {
		for _, name := range []string{"disable-tls-verification", "alternate-ca-path", "ca-cert", "client-cert", "client-key",
			"browser-cmd", "no-browser", "device", "login-timeout", "service-account", "service-account-file", "verbose"} {
			if c.Flag(name) == nil {
				t.Errorf("%s has no --%s; want the global flags on every command", c.CommandPath(), name)
			}
		}
	}
	if c, _, _ := root.Find([]string{"tcp"}); c.Flags().Lookup("listen").DefValue != "127.0.0.1:0" {
		t.Errorf("tcp --listen default = %q; want 127.0.0.1:0", c.Flags().Lookup("listen").DefValue)
	}
	_ = cmdutil.DefaultLoginTimeout
}

func TestPrintChain(t *testing.T) {
	var b bytes.Buffer
	inner := os.NewSyscallError("connect", syscall.ECONNREFUSED)
	printChain(&b, fmt.Errorf("listing routes at https://p: %w", errors.Join(errors.New("first"), inner)))
	got := b.String()
	for _, want := range []string{"Details:", "*fmt.wrapError: listing routes at https://p", "    *errors.errorString: first", "*os.SyscallError: connect: connection refused"} {
		if !strings.Contains(got, want) {
			t.Errorf("chain = %q; want it to contain %q", got, want)
		}
	}
}

// Errors quote servers and files; the one line and --verbose's chain are
// escaped whatever they carry.
func TestErrorLinesEscaped(t *testing.T) {
	for _, s := range termtest.Samples {
		err := fmt.Errorf("listing routes at https://p: %w", errors.New("proxy answered 500: "+s))
		var b bytes.Buffer
		fmt.Fprintln(&b, oneLine(err.Error()))
		printChain(&b, err)
		if cerr := termtest.Check(b.String(), false); cerr != nil {
			t.Errorf("payload %q: %v", s, cerr)
		}
		for _, args := range [][]string{{"routes", "list", "--no-keyring", "https://127.0.0.1:1/" + s}, {"tcp", s}, {"tcp", "--listen", s, "db:5432"}} {
			_, stdout, stderr := run(t, args...)
			if cerr := termtest.Check(stdout+stderr, false); cerr != nil {
				t.Errorf("pomerium-cli %q: %v", args, cerr)
			}
		}
	}
}

// `tcp` refuses a hostile destination with one line, before it listens.
func TestTCPRefusesHostileDestinationBeforeListening(t *testing.T) {
	for _, dest := range []string{
		"[a\r\nX-Injected:1\r\n]:7000", "db\r\nX-Injected: 1:5432", "db:5432\r\n", "db\x00:1", "db x:1", "db\u202e:1",
		"tcp+https://proxy:8443/db\r\n:1", "db:0", "db:65536", "[::1:22",
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // free: the command must not take it
		code, stdout, stderr := run(t, "tcp", dest, "--http1", "--listen", addr)
		if code != ExitError {
			t.Errorf("tcp %q: exit %d; want %d (stderr %q)", dest, code, ExitError, stderr)
		}
		if !strings.HasPrefix(stderr, "Error: destination ") || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("tcp %q: stderr %q; want one Error: line naming the destination", dest, stderr)
		}
		if strings.Contains(stderr, "Listening") {
			t.Errorf("tcp %q listened before refusing: %q", dest, stderr)
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("tcp %q: something listens on %s", dest, addr)
		}
	}
}

func TestWatchSignals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals int
		grace   time.Duration
	}{
		{"second signal exits at once", 2, time.Hour},
		{"grace runs out", 1, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			for i := 0; i < tc.signals; i++ {
				sigs <- os.Interrupt
			}
			ctx, cancel := context.WithCancel(context.Background())
			exited := make(chan int, 1)
			go watchSignals(sigs, cancel, tc.grace, func(code int) { exited <- code })
			select {
			case code := <-exited:
				if code != ExitInterrupt {
					t.Fatalf("exit code %d; want %d", code, ExitInterrupt)
				}
			case <-time.After(time.Minute):
				t.Fatal("never exited")
			}
			if ctx.Err() == nil {
				t.Fatal("context not cancelled by the first signal")
			}
		})
	}
}

// TestOnRunOnlyWhenACommandRuns: cli.Main watches signals from OnRun, so
// help and usage errors (which exit at once) never start that thread,
// and every command that runs has it.
func TestOnRunOnlyWhenACommandRuns(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, 0},
		{[]string{"routes", "--help"}, 0},
		{[]string{"help", "tcp"}, 1}, // cobra's help command is a command that runs
		{[]string{"tcp"}, 0},         // usage error: no destination
		{[]string{"--no-such-flag"}, 0},
		{[]string{"version"}, 1},
		{[]string{"cache", "location"}, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := NewFactory(strings.NewReader(""), new(bytes.Buffer), new(bytes.Buffer))
			f.ConfigDir, f.CacheDir = t.TempDir(), t.TempDir()
			calls := 0
			f.OnRun = func() { calls++ }
			Run(context.Background(), f, tt.args)
			if calls != tt.want {
				t.Errorf("OnRun called %d times; want %d", calls, tt.want)
			}
		})
	}
}

// TestNoCommandReplacesTheRootPreRun: cobra runs only the nearest
// PersistentPreRun, so one on a subcommand would skip OnRun (and with it
// Ctrl-C's clean exit) for everything under it.
func TestNoCommandReplacesTheRootPreRun(t *testing.T) {
	root := NewCmdRoot(NewFactory(strings.NewReader(""), new(bytes.Buffer), new(bytes.Buffer)))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && (c.PersistentPreRun != nil || c.PersistentPreRunE != nil) {
			t.Errorf("%s sets its own PersistentPreRun", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
