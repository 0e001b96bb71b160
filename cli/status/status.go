// Package status is `pomerium-cli status`: per server, who you are signed
// in as, until when, where the token is kept, and whether the server still
// accepts it.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

var outputFormats = []string{"text", "json", "yaml"}

// StatusOptions are the parsed arguments of `status`.
type StatusOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	ServerURL string // "" = every remembered server
	Output    string
}

// ServerStatus is one server's line of `status` (json/yaml keys).
type ServerStatus struct {
	Server     string     `json:"server" yaml:"server"`
	SignedIn   bool       `json:"signed_in" yaml:"signed_in"`
	Email      string     `json:"email,omitempty" yaml:"email,omitempty"`
	Name       string     `json:"name,omitempty" yaml:"name,omitempty"`
	User       string     `json:"user,omitempty" yaml:"user,omitempty"`
	Groups     *int       `json:"groups,omitempty" yaml:"groups,omitempty"`
	Expires    *time.Time `json:"expires,omitempty" yaml:"expires,omitempty"`
	TokenStore string     `json:"token_store" yaml:"token_store"`
	TokenPath  string     `json:"token_path,omitempty" yaml:"token_path,omitempty"`
	// Accepted is the server's answer to the token (GET /healthz); nil
	// when there is no token or the server could not be asked.
	Accepted *bool  `json:"accepted,omitempty" yaml:"accepted,omitempty"`
	Error    string `json:"error,omitempty" yaml:"error,omitempty"`
}

// NewCmdStatus builds `status [server-url]`. runF replaces statusRun in tests.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "status [server-url]",
		Short: "Show who you are signed in as, per server, and whether the server accepts it",
		Long: `For the server named, or every remembered server and any other with a
cached token: the signed-in user (email, name and groups count, as the
server reports them), when the session expires, where the token is kept
(keyring, or a 0600 file with its path), and whether the server still
accepts the token: one request to its /.pomerium/user (as Pomerium serves
it; /healthz on servers without it). Nothing here signs in or opens a
browser.`,
		Example: `  pomerium-cli status
  pomerium-cli status https://proxy.example.com -o json`,
		Args: cmdutil.MaximumArgs(1, "one server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.ServerURL = args[0]
			}
			switch opts.Output {
			case "text", "json", "yaml":
			default:
				return cmdutil.Usagef("--output %q: want one of %s", opts.Output, strings.Join(outputFormats, ", "))
			}
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return statusRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: "+strings.Join(outputFormats, ", "))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

type target struct {
	u   *url.URL
	tls tlsconfig.Options
}

func statusRun(opts *StatusOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	f := opts.Factory
	var targets []target
	if opts.ServerURL != "" {
		u, err := f.ResolveServer(opts.ServerURL, "")
		if err != nil {
			return err
		}
		targets = append(targets, target{u, f.Opts.TLS})
	} else {
		ps, err := f.Profiles()
		if err != nil {
			return err
		}
		for _, p := range ps {
			u, err := cmdutil.ParseServerURL(p.URL)
			if err != nil {
				continue
			}
			t := p.TLS()
			if f.Opts.TLS != (tlsconfig.Options{}) {
				t = f.Opts.TLS
			}
			targets = append(targets, target{u, t})
		}
		targets = append(targets, tokenOnlyTargets(f, targets)...)
		if len(targets) == 0 {
			return cmdutil.Usagef("no server URL given and none remembered: run pomerium-cli login https://proxy.example.com")
		}
	}
	out := make([]ServerStatus, 0, len(targets))
	for _, t := range targets {
		out = append(out, serverStatus(ctx, f, t))
	}
	switch opts.Output {
	case "json":
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "yaml":
		b, err := yaml.Marshal(out)
		if err != nil {
			return fmt.Errorf("encoding status: %w", err)
		}
		_, err = opts.IO.Out.Write(b)
		return err
	}
	return writeText(opts.IO.Out, out, time.Now())
}

// tokenOnlyTargets are the servers holding a cached token that are not
// remembered (signed in to before servers were remembered, or forgotten
// since): a status that skipped them would hide a live sign-in.
func tokenOnlyTargets(f *cmdutil.Factory, known []target) []target {
	hosts, err := f.TokenStore().Hosts()
	if err != nil {
		return nil
	}
	var out []target
	for _, h := range hosts {
		u, err := cmdutil.ParseServerURL("https://" + h)
		if err != nil || u.Host != h {
			continue
		}
		seen := false
		for _, t := range known {
			seen = seen || t.u.Host == u.Host
		}
		if !seen {
			out = append(out, target{u, f.Opts.TLS})
		}
	}
	return out
}

func serverStatus(ctx context.Context, f *cmdutil.Factory, t target) ServerStatus {
	st := ServerStatus{Server: t.u.String(), TokenStore: "file"}
	store := f.TokenStore()
	if c, ok := store.(*authflow.Cache); ok {
		if c.UsingKeyring() {
			st.TokenStore = "keyring"
		} else {
			st.TokenPath = c.TokenPath(t.u.Host)
		}
	}
	a, err := f.AuthenticatorTLS(t.tls)
	if err != nil {
		st.Error = cmdutil.ExplainLine(err, st.Server)
		return st
	}
	if a.ServiceAccount != "" {
		st.TokenStore = "service account"
		st.TokenPath = ""
	}
	tok, err := a.CachedToken(ctx, t.u)
	if err != nil && !errors.Is(err, authflow.ErrNotFound) {
		st.Error = cmdutil.ExplainLine(err, st.Server)
		return st
	}
	if tok == "" {
		return st
	}
	st.SignedIn = true
	if ti, ok := cmdutil.ParseTokenInfo(tok); ok {
		st.Email, st.Name, st.User = ti.Email, ti.Name, ti.Subject
		if ti.HasGroups {
			n := ti.Groups
			st.Groups = &n
		}
		if !ti.Expiry.IsZero() {
			e := ti.Expiry
			st.Expires = &e
		}
	}
	// One request says both who the server takes the token for and
	// whether it takes it at all; a server without /.pomerium/user is
	// asked /healthz, and the token's own claims stand.
	info, ok, err := a.FetchUserInfo(ctx, t.u, tok)
	if errors.Is(err, authflow.ErrNoUserInfo) {
		ok, err = a.Accepted(ctx, t.u, tok)
	}
	if err != nil {
		st.Error = cmdutil.ExplainLine(err, st.Server)
		return st
	}
	st.Accepted = &ok
	if info != nil {
		applyUserInfo(&st, info)
	}
	return st
}

// applyUserInfo prefers what the server says about the user over what
// the token carries.
func applyUserInfo(st *ServerStatus, info *authflow.UserInfo) {
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&st.Email, info.Email}, {&st.Name, info.Name}, {&st.User, info.User},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if st.User == "" {
		st.User = info.Subject
	}
	if info.Groups != nil {
		n := len(info.Groups)
		st.Groups = &n
	}
}

func writeText(w io.Writer, list []ServerStatus, now time.Time) error {
	var b strings.Builder
	for i, s := range list {
		if i > 0 {
			b.WriteString("\n")
		}
		e := termtext.Escape
		fmt.Fprintln(&b, e(s.Server))
		if !s.SignedIn {
			fmt.Fprintln(&b, "  Not signed in: run pomerium-cli login", e(s.Server))
		} else {
			who := s.Email
			if who == "" {
				who = s.User
			}
			if who == "" {
				who = "(the token names no user)"
			}
			line := "  Signed in as " + e(who)
			if s.Name != "" {
				line += " (" + e(s.Name) + ")"
			}
			if s.Groups != nil {
				if *s.Groups == 1 {
					line += ", 1 group"
				} else {
					line += fmt.Sprintf(", %d groups", *s.Groups)
				}
			}
			fmt.Fprintln(&b, line)
			if s.Expires != nil {
				left := s.Expires.Sub(now).Round(time.Minute)
				when := "in " + left.String()
				if left <= 0 {
					when = "expired"
				}
				fmt.Fprintf(&b, "  Session expires %s (%s)\n", s.Expires.Local().Format("2006-01-02 15:04 MST"), when)
			}
		}
		store := s.TokenStore
		if s.TokenPath != "" {
			store += " " + e(s.TokenPath)
		}
		fmt.Fprintln(&b, "  Token store:", store)
		switch {
		case s.Accepted != nil && *s.Accepted:
			fmt.Fprintln(&b, "  Server accepts the token: yes")
		case s.Accepted != nil:
			fmt.Fprintln(&b, "  Server accepts the token: no (sign in again: pomerium-cli login "+e(s.Server)+")")
		}
		if s.Error != "" {
			fmt.Fprintln(&b, "  Error:", e(s.Error))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
