package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
)

// The real binary given --alternate-ca-path trusts that CA and, as
// pomerium-cli does, the system's roots as well, which it loads only when
// a certificate needs them (here SSL_CERT_FILE makes the portal's
// certificate the one system root): routes list works whichever set the
// portal's certificate is under, and fails under neither.
func TestE2EAlternateCAKeepsSystemRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	bin := testutil.BuildBinary(t, "pomerium-cli")
	body, _ := json.Marshal(map[string]any{"routes": []portalclient.Route{
		{ID: "1", Name: "roots-db", Type: "tcp", From: "tcp+https://proxy.example.com/db.internal:5432"},
	}})
	portal, portalCA := testutil.FakePortal(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	other, _ := testutil.LoopbackCA(t)
	for _, tc := range []struct {
		name, systemRoots string
		extra             []string
		wantErr           string
	}{
		{"extra CA elsewhere, portal under a system root", portalCA, []string{"--alternate-ca-path", other.CertFile}, ""},
		{"no extra CA, portal under a system root", portalCA, nil, ""},
		{"portal under the extra CA", other.CertFile, []string{"--alternate-ca-path", portalCA}, ""},
		{"portal under neither", other.CertFile, []string{"--alternate-ca-path", other.CertFile}, "certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"routes", "list", portal, "-o", "json"}, tc.extra...)...)
			cmd.Env = append(isolatedEnv(dir), "SSL_CERT_FILE="+tc.systemRoots, "SSL_CERT_DIR="+t.TempDir())
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			if tc.wantErr == "" {
				if err != nil || !strings.Contains(out.String(), `"roots-db"`) {
					t.Fatalf("routes list: %v; stdout %q, stderr %q; want the route", err, out.String(), errOut.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("routes list succeeded; stdout %q; want %q", out.String(), tc.wantErr)
			}
			assertOneErrorLine(t, errOut.String(), tc.wantErr)
		})
	}
}
