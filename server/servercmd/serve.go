package servercmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devidp"
)

// serveOptions are the root command's flags.
type serveOptions struct {
	f         *Factory
	dev       bool
	address   string
	devDir    string
	dataDir   string
	autoLogin string
	devUsers  []devidp.User
	logLevel  string
	// logLevelSet: --log-level was given (it beats the config's log_level).
	logLevelSet bool
}

func (o *serveOptions) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&o.dev, "dev", false, "run alone: local CA, built-in OpenID provider, sample upstreams and routes")
	fl.StringVar(&o.address, "address", "", "listen `host:port` (default 127.0.0.1:8443 with --dev, else the config's address)")
	fl.StringVar(&o.devDir, "dev-dir", "", "`dir` for the dev CA (default: <user config dir>/pomerium-server-dev)")
	fl.StringVar(&o.dataDir, "data-dir", "", "`dir` for the embedded store (default: data_dir, else <user state dir>/pomerium-server; --dev: the dev dir)")
	fl.StringVar(&o.autoLogin, "dev-auto-login", "", "sign this `email` in at the built-in provider without the page")
	fl.Var(&devUserFlag{&o.devUsers}, "dev-user", "add a dev user `EMAIL[:group,group]` (repeatable)")
	fl.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.MarkFlagDirname("dev-dir")
	cmd.MarkPersistentFlagFilename("config", "yaml", "yml")
}

// devUserFlag is --dev-user EMAIL[:group,group], repeatable.
type devUserFlag struct{ users *[]devidp.User }

func (d *devUserFlag) String() string { return "" }
func (d *devUserFlag) Type() string   { return "user" }
func (d *devUserFlag) Set(v string) error {
	email, groups, _ := strings.Cut(v, ":")
	if !strings.Contains(email, "@") {
		return fmt.Errorf("%q is not EMAIL[:group,group]", v)
	}
	u := devidp.User{Email: email, Name: email}
	if groups != "" {
		u.Groups = strings.Split(groups, ",")
	}
	*d.users = append(*d.users, u)
	return nil
}

func (o *serveOptions) check() error {
	if !o.dev && o.f.ConfigFile == "" {
		return usageError{errors.New("no configuration: pass --config FILE or run with --dev")}
	}
	if !o.dev && (o.autoLogin != "" || o.devDir != "" || len(o.devUsers) > 0) {
		return usageError{errors.New("--dev-auto-login, --dev-dir and --dev-user need --dev")}
	}
	return nil
}

func serveRun(ctx context.Context, o *serveOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", o.logLevel)}
	}
	opts := server.Options{Banner: o.f.ErrOut, Dev: o.dev, DevAutoLogin: o.autoLogin, Address: o.address, DataDir: o.dataDir}
	if o.f.ConfigFile != "" {
		cfg, err := o.f.LoadConfig("")
		if err != nil {
			return err
		}
		opts.Config = cfg
		opts.ConfigFile = o.f.ConfigFile
		// The config's log_level applies unless --log-level was given.
		if cfg.LogLevel != "" && !o.logLevelSet {
			level.UnmarshalText([]byte(cfg.LogLevel))
		}
		opts.LogLevelFromConfig = !o.logLevelSet
	}
	// A LevelVar, so that the management API's logLevel setting applies live.
	lv := new(slog.LevelVar)
	lv.Set(level)
	log := slog.New(slog.NewTextHandler(o.f.ErrOut, &slog.HandlerOptions{Level: lv}))
	opts.Logger, opts.LogLevel = log, lv
	if o.dev {
		if opts.Address == "" {
			opts.Address = "127.0.0.1:8443"
		}
		opts.DevDir = o.devDir
		if opts.DevDir == "" {
			d, err := os.UserConfigDir()
			if err != nil {
				return fmt.Errorf("finding the user config dir (pass --dev-dir): %w", err)
			}
			opts.DevDir = filepath.Join(d, "pomerium-server-dev")
		}
		if len(o.devUsers) > 0 {
			opts.DevUsers = append(append([]devidp.User{}, devidp.DefaultUsers...), o.devUsers...)
		}
	} else if opts.Address == "" {
		opts.AddressFromConfig = true
		opts.Address = opts.Config.Address
		if opts.Address == "" {
			opts.Address = config.DefaultAddress
		}
	}
	if !o.dev && opts.DataDir == "" && opts.Config.Storage.DataDir == "" {
		d, err := defaultDataDir()
		if err != nil {
			return err
		}
		opts.DataDir = d
	}
	ln, err := net.Listen("tcp", opts.Address)
	if err != nil {
		key := "--address"
		if o.address == "" && !o.dev {
			key = "address"
		}
		return server.ListenError(key, opts.Address, err)
	}
	if o.dev {
		// With --address 127.0.0.1:0 the routes must name the real port.
		opts.Address = ln.Addr().String()
	}
	s, err := server.New(opts)
	if err != nil {
		ln.Close()
		return err
	}
	if o.f.AdaptProcs != nil {
		defer o.f.AdaptProcs(ctx)()
	}
	err = s.Serve(ctx, ln)
	log.Info("stopped")
	return err
}
