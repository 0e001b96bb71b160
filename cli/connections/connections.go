// Package connections is `pomerium-cli connections`: the saved
// connections shared with pomerium-desktop (list, add, edit, rm, connect,
// import from a file or a routes portal, export).
//
//	pomerium-cli connections add --name db --destination tcp+https://proxy.example.com/db:5432 --tag prod
//	pomerium-cli connections connect db
package connections

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// storeFlag holds --store, shared by every verb.
type storeFlag struct{ path string }

// open returns the store: --store, else $POMERIUM_CLI_CONNECTIONS, else
// the default path in the user's config dir.
func (s *storeFlag) open(f *cmdutil.Factory) *saved.Store {
	if s.path != "" {
		return saved.NewStore(s.path)
	}
	return f.ConnectionStore()
}

// NewCmdConnections builds the `connections` noun.
func NewCmdConnections(f *cmdutil.Factory) *cobra.Command {
	sf := &storeFlag{}
	cmd := &cobra.Command{
		Use:     "connections <command>",
		Aliases: []string{"conn", "connection"},
		Short:   "Manage saved connections (shared with pomerium-desktop)",
		Long: `Saved connections are destinations with their own listen address, tags, TLS
options and start-at-launch choice, kept in one JSON file shared with
pomerium-desktop: ` + "`" + `<config dir>/pomerium-cli/connections.json` + "`" + ` (override with
--store or $` + saved.EnvPath + `).

A connection is named by its id or, when unique, its name.`,
		Example: `  pomerium-cli connections add --name db --destination tcp+https://proxy.example.com/db.internal:5432 --listen 127.0.0.1:5432 --tag prod
  pomerium-cli connections list --tag prod
  pomerium-cli connections connect db
  pomerium-cli connections import --portal https://proxy.example.com --tag work
  pomerium-cli connections import pomerium-desktop-export.json
  pomerium-cli connections export backup.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("unknown command %q for %s: try %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmdutil.Usagef("missing subcommand: try %s list", cmd.CommandPath())
		},
	}
	cmd.PersistentFlags().StringVar(&sf.path, "store", "", "connections `file` to use instead of the shared one")
	cmd.AddCommand(
		NewCmdList(f, sf, nil),
		NewCmdAdd(f, sf, nil),
		NewCmdEdit(f, sf, nil),
		NewCmdRemove(f, sf, nil),
		NewCmdConnect(f, sf, nil),
		NewCmdImport(f, sf, nil),
		NewCmdExport(f, sf, nil),
	)
	return cmd
}

// connFlags are the fields add and edit set. The TLS flags shadow the
// global ones of the same name: here they are saved with the connection.
type connFlags struct {
	name, destination, listen, pomeriumURL string
	tags, addTags, removeTags              []string
	autostart                              bool
	tls                                    tlsconfig.Options
}

func (c *connFlags) register(fs *pflag.FlagSet, edit bool) {
	fs.StringVar(&c.name, "name", "", "connection `name`")
	fs.StringVar(&c.destination, "destination", "", "`destination`: host:port, tcp+https://host:port or tcp+https://proxy/host:port")
	fs.StringVar(&c.listen, "listen", "", "local `address` to listen on (empty picks a free port)")
	fs.StringVar(&c.pomeriumURL, "pomerium-url", "", "`URL` of the proxy to dial, overriding the destination's")
	tagHelp := "`tag` for the connection (repeatable)"
	if edit {
		tagHelp = "replace the tags with these (repeatable; --tag '' clears them)"
		fs.StringSliceVar(&c.addTags, "add-tag", nil, "add a `tag` (repeatable)")
		fs.StringSliceVar(&c.removeTags, "remove-tag", nil, "remove a `tag` (repeatable)")
	}
	fs.StringSliceVar(&c.tags, "tag", nil, tagHelp)
	fs.BoolVar(&c.autostart, "autostart", false, "start this connection when pomerium-desktop starts")
	fs.BoolVar(&c.tls.DisableVerification, "disable-tls-verification", false, "do not verify the proxy's certificate (insecure)")
	fs.StringVar(&c.tls.CAFile, "alternate-ca-path", "", "PEM `file` of CA certificates to trust for the proxy")
	fs.StringVar(&c.tls.CACert, "ca-cert", "", "CA certificate to trust, PEM or base64 of PEM")
	fs.StringVar(&c.tls.ClientCertFile, "client-cert", "", "PEM `file` of a client certificate")
	fs.StringVar(&c.tls.ClientKeyFile, "client-key", "", "PEM `file` of the client certificate's key")
}

// apply copies the flags the user gave onto conn.
func (c *connFlags) apply(fs *pflag.FlagSet, conn *saved.Connection) error {
	set := func(name string, dst *string, v string) { // edit: only what was given
		if fs.Changed(name) {
			*dst = v
		}
	}
	set("name", &conn.Name, c.name)
	set("destination", &conn.Destination, c.destination)
	set("listen", &conn.ListenAddr, c.listen)
	set("pomerium-url", &conn.PomeriumURL, c.pomeriumURL)
	set("ca-cert", &conn.TLS.CACert, c.tls.CACert)
	files, err := c.tls.Abs() // the desktop app runs from another directory
	if err != nil {
		return err
	}
	set("alternate-ca-path", &conn.TLS.CAFile, files.CAFile)
	for _, p := range []struct {
		flag          string
		dst, inlineOf *string
		v             string
	}{
		{"client-cert", &conn.TLS.ClientCertFile, &conn.TLS.ClientCert, files.ClientCertFile},
		{"client-key", &conn.TLS.ClientKeyFile, &conn.TLS.ClientKey, files.ClientKeyFile},
	} {
		if fs.Changed(p.flag) {
			*p.dst, *p.inlineOf = p.v, "" // a file replaces an inline PEM
		}
	}
	if fs.Changed("alternate-ca-path") && c.tls.CAFile != "" && !fs.Changed("ca-cert") {
		conn.TLS.CACert = ""
	}
	if fs.Changed("ca-cert") && c.tls.CACert != "" && !fs.Changed("alternate-ca-path") {
		conn.TLS.CAFile = ""
	}
	if fs.Changed("disable-tls-verification") {
		conn.TLS.DisableVerification = c.tls.DisableVerification
	}
	if fs.Changed("autostart") {
		conn.Autostart = c.autostart
	}
	if fs.Changed("tag") {
		conn.Tags = c.tags
	}
	conn.Tags = append(conn.Tags, c.addTags...)
	for _, t := range c.removeTags {
		conn.Tags = remove(conn.Tags, t)
	}
	return nil
}

func remove(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// flagError turns a store validation error into the flag's name.
func flagError(err error) error {
	var fe *saved.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	flag := map[string]string{
		saved.FieldName: "--name", saved.FieldDestination: "--destination", saved.FieldListenAddr: "--listen",
		saved.FieldPomeriumURL: "--pomerium-url", saved.FieldTLS: "TLS flags",
	}[fe.Field]
	if flag == "" {
		return err
	}
	return fmt.Errorf("%s: %w", flag, fe.Err)
}
