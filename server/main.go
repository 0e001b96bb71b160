package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devidp"
)

// Main runs the server with args and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, args, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "pomerium-server:", err)
		return 1
	}
	return 0
}

type flags struct {
	configFile string
	dev        bool
	address    string
	devDir     string
	autoLogin  string
	devUsers   []devidp.User
	logLevel   string
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("pomerium-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.configFile, "config", "", "YAML configuration `file`")
	fs.BoolVar(&f.dev, "dev", false, "run alone: local CA, built-in OpenID provider, sample upstreams and routes")
	fs.StringVar(&f.address, "address", "", "listen `host:port` (default 127.0.0.1:8443 with --dev, else the config's address)")
	fs.StringVar(&f.devDir, "dev-dir", "", "`dir` for the dev CA (default: <user config dir>/pomerium-server-dev)")
	fs.StringVar(&f.autoLogin, "dev-auto-login", "", "sign this `email` in at the built-in provider without the page")
	fs.Func("dev-user", "add a dev user `EMAIL[:group,group]` (repeatable)", func(v string) error {
		email, groups, _ := strings.Cut(v, ":")
		if !strings.Contains(email, "@") {
			return fmt.Errorf("%q is not EMAIL[:group,group]", v)
		}
		u := devidp.User{Email: email, Name: email}
		if groups != "" {
			u.Groups = strings.Split(groups, ",")
		}
		f.devUsers = append(f.devUsers, u)
		return nil
	})
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if !f.dev && f.configFile == "" {
		return nil, errors.New("no configuration: pass --config FILE or run with --dev")
	}
	if !f.dev && (f.autoLogin != "" || f.devDir != "" || len(f.devUsers) > 0) {
		return nil, errors.New("--dev-auto-login, --dev-dir and --dev-user need --dev")
	}
	return f, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", f.logLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	opts := Options{Logger: log, Banner: stderr, Dev: f.dev, DevAutoLogin: f.autoLogin, Address: f.address}
	if f.configFile != "" {
		if opts.Config, err = config.Load(f.configFile); err != nil {
			return err
		}
	}
	if f.dev {
		if opts.Address == "" {
			opts.Address = "127.0.0.1:8443"
		}
		opts.DevDir = f.devDir
		if opts.DevDir == "" {
			d, err := os.UserConfigDir()
			if err != nil {
				return fmt.Errorf("finding the user config dir (pass --dev-dir): %w", err)
			}
			opts.DevDir = filepath.Join(d, "pomerium-server-dev")
		}
		if len(f.devUsers) > 0 {
			opts.DevUsers = append(append([]devidp.User{}, devidp.DefaultUsers...), f.devUsers...)
		}
	} else if opts.Address == "" {
		opts.Address = opts.Config.Address
		if opts.Address == "" {
			opts.Address = config.DefaultAddress
		}
	}
	ln, err := net.Listen("tcp", opts.Address)
	if err != nil {
		return fmt.Errorf("listening on %s (pick another with --address): %w", opts.Address, err)
	}
	if f.dev {
		// With --address 127.0.0.1:0 the routes must name the real port.
		opts.Address = ln.Addr().String()
	}
	s, err := New(opts)
	if err != nil {
		ln.Close()
		return err
	}
	err = s.Serve(ctx, ln)
	log.Info("stopped")
	return err
}
