// Package k8s is `pomerium-cli k8s`: the kubectl credential plugin
// (exec-credential) and dropping its credentials (flush-credentials).
package k8s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cache"
	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// APIVersion is the ExecCredential version printed unless kubectl asks
// for another one it knows (KUBERNETES_EXEC_INFO).
const APIVersion = "client.authentication.k8s.io/v1"

// apiVersions are the versions kubectl may ask for.
var apiVersions = map[string]bool{APIVersion: true, "client.authentication.k8s.io/v1beta1": true}

// unknownExpiry is the expiry given for a token that carries none: kubectl
// runs the plugin again after it, and the proxy is asked again.
const unknownExpiry = time.Hour

// ExecCredential is what kubectl reads from an exec plugin's stdout.
type ExecCredential struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Status     ExecCredentialStatus `json:"status"`
}

// ExecCredentialStatus carries the bearer token kubectl sends.
type ExecCredentialStatus struct {
	ExpirationTimestamp time.Time `json:"expirationTimestamp"`
	Token               string    `json:"token"`
}

// NewCmdK8s builds `k8s` with `exec-credential` and `flush-credentials`.
func NewCmdK8s(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Credentials for kubectl through the proxy",
		Args:  cmdutil.MaximumArgs(0, "a subcommand"),
	}
	cmd.AddCommand(newCmdExecCredential(f), newCmdFlush(f))
	return cmd
}

func newCmdExecCredential(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "exec-credential <server-url>",
		Short: "Print an ExecCredential for kubectl (the credential plugin)",
		Long: `Print a Kubernetes ExecCredential on stdout whose bearer token is
Pomerium-<jwt> for the proxy, signing in through the browser when no token
is cached or the proxy no longer accepts the cached one. kubectl runs it
as a credential plugin; the token is a credential: do not log it.`,
		Example: `  # ~/.kube/config
  users:
  - name: via-pomerium
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: pomerium-cli
        args: [k8s, exec-credential, https://k8s.example.com]
        interactiveMode: IfAvailable`,
		Args: cmdutil.ExactArgs(1, "server URL (the Kubernetes API route, e.g. https://k8s.example.com)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			u, a, err := f.ServerAuthenticator(args[0])
			if err != nil {
				return err
			}
			tok, err := a.ValidToken(ctx, u, nil)
			if err != nil {
				return fmt.Errorf("getting a token for %s: %w", u.Host, err)
			}
			cred := NewExecCredential(tok, requestedVersion(f), time.Now())
			b, err := json.Marshal(cred)
			if err != nil {
				return fmt.Errorf("encoding the ExecCredential: %w", err)
			}
			_, err = fmt.Fprintln(f.IO.Out, string(b))
			return err
		},
	}
}

// NewExecCredential wraps tok: the token is "Pomerium-<jwt>" (the proxy
// takes "Authorization: Bearer Pomerium-<jwt>") and expires with it.
func NewExecCredential(tok, apiVersion string, now time.Time) ExecCredential {
	exp, ok := authflow.Expiry(tok)
	if !ok {
		exp = now.Add(unknownExpiry)
	}
	return ExecCredential{
		APIVersion: apiVersion,
		Kind:       "ExecCredential",
		Status:     ExecCredentialStatus{ExpirationTimestamp: exp.UTC().Truncate(time.Second), Token: "Pomerium-" + tok},
	}
}

// requestedVersion is the apiVersion kubectl passed in
// KUBERNETES_EXEC_INFO when it is one we know, else APIVersion.
func requestedVersion(f *cmdutil.Factory) string {
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var info struct {
		APIVersion string `json:"apiVersion"`
	}
	if v := getenv("KUBERNETES_EXEC_INFO"); v != "" && len(v) < 1<<16 {
		if json.Unmarshal([]byte(v), &info) == nil && apiVersions[info.APIVersion] {
			return info.APIVersion
		}
	}
	return APIVersion
}

func newCmdFlush(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "flush-credentials [server-url]",
		Short: "Drop the cached credentials of a server (or of every server)",
		Long: `Drop the cached token of the server, so the next kubectl call signs in
again; with no server URL, drop every cached token.`,
		Args: cmdutil.MaximumArgs(1, "one server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				n, err := cache.ClearAll(f.TokenStore())
				if err != nil {
					return err
				}
				fmt.Fprintf(f.IO.ErrOut, "Dropped %d cached credential(s).\n", n)
				return nil
			}
			u, err := cmdutil.ParseServerURL(args[0])
			if err != nil {
				return err
			}
			err = f.TokenStore().Delete(authflow.HostKey(u))
			if errors.Is(err, authflow.ErrNotFound) {
				fmt.Fprintf(f.IO.ErrOut, "No cached credentials for %s.\n", u.Host)
				return nil
			}
			if err != nil {
				return fmt.Errorf("dropping the credentials for %s: %w", u.Host, err)
			}
			fmt.Fprintf(f.IO.ErrOut, "Dropped the cached credentials for %s.\n", u.Host)
			return nil
		},
	}
}
