package cmdutil

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// ExactArgs is cobra.ExactArgs with a UsageError naming what is missing.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return Usagef("missing %s", what)
		case len(args) > n:
			return Usagef("too many arguments: %s takes %s, got %q", cmd.CommandPath(), what, args)
		}
		return nil
	}
}

// MaximumArgs is cobra.MaximumNArgs with a UsageError.
func MaximumArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return Usagef("too many arguments: %s takes at most %s, got %q", cmd.CommandPath(), what, args)
		}
		return nil
	}
}

// ParseServerURL accepts "https://proxy.example.com[:port]" or a bare
// "proxy.example.com[:port]" (https is assumed) and returns the origin.
func ParseServerURL(s string) (*url.URL, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return nil, fmt.Errorf("empty server URL: want https://proxy.example.com")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: want https://proxy.example.com: %w", s, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: scheme %q not supported, want https://proxy.example.com", s, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("server URL %q has no host: want https://proxy.example.com", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}
