// Package cache is `pomerium-cli cache`: where cached tokens live, and
// dropping them all.
package cache

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// NewCmdCache builds `cache` with `location` and `clear`.
func NewCmdCache(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Where cached tokens are kept, and clearing them",
		Args:  cmdutil.MaximumArgs(0, "no arguments"),
	}
	cmd.AddCommand(newCmdLocation(f), newCmdClear(f))
	return cmd
}

func newCmdLocation(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "location",
		Short: "Print the cache directory (and, on stderr, where tokens are kept)",
		Long: `Print the cache directory on stdout, as the original pomerium-cli does. On
stderr, say where tokens are kept: in the OS keyring, or, where no keyring
answers (or with --no-keyring), in 0600 files under the directory.`,
		Args: cmdutil.MaximumArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ok := f.TokenStore().(*authflow.Cache)
			if !ok {
				return errors.New("the token store is not the default cache")
			}
			// Listing the tokens probes the keyring, so UsingKeyring is
			// an answer and not a hope.
			_, _ = c.Hosts()
			fmt.Fprintln(f.IO.Out, termtext.Escape(c.Dir()))
			if c.UsingKeyring() {
				fmt.Fprintf(f.IO.ErrOut, "Tokens are kept in the OS keyring (service %q).\n", c.Service())
			} else {
				fmt.Fprintf(f.IO.ErrOut, "Tokens are kept in 0600 files in %s.\n", termtext.Escape(c.TokenDir()))
			}
			return nil
		},
	}
}

func newCmdClear(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Drop every cached token",
		Long: `Drop every cached token, for every proxy (like logout --all): the next
command signs in again. The proxies' own sessions are not ended.`,
		Args: cmdutil.MaximumArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := ClearAll(f.TokenStore())
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Cleared %d cached token(s).\n", n)
			return nil
		},
	}
}

// ClearAll deletes every token in store and says how many there were.
func ClearAll(store authflow.TokenStore) (int, error) {
	hosts, err := store.Hosts()
	if err != nil {
		return 0, fmt.Errorf("listing cached tokens: %w", err)
	}
	n := 0
	for _, h := range hosts {
		if err := store.Delete(h); err != nil && !errors.Is(err, authflow.ErrNotFound) {
			return n, fmt.Errorf("dropping the token for %s: %w", termtext.Escape(h), err)
		}
		n++
	}
	return n, nil
}
