package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
)

func TestLogsNeverCarryTokens(t *testing.T) {
	var logs testutil.SyncBuffer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{
		Dev: true, DevDir: t.TempDir(), DevAutoLogin: "dev@example.com", Address: ln.Addr().String(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background(), ln)
	defer s.Shutdown(context.Background())
	d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: ln.Addr().String()}, Addr: ln.Addr().String(), CAPool: s.CAPool()}

	tok := loginToken(t, d)
	c := apiClient(t, d)
	get(t, c, d.URL.String()+"/.pomerium/routes?pomerium_session="+url.QueryEscape(tok), nil)
	get(t, c, d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Authorization": "Bearer Pomerium-" + tok})
	get(t, c, "https://verify.localhost:"+d.URL.Port()+"/?pomerium_session="+url.QueryEscape(tok), nil)
	resp, conn, _ := connectH1(t, d, "echo.internal:7000", tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: got %d; want 200", resp.StatusCode)
	}
	conn.Close()

	out := logs.String()
	if !strings.Contains(out, "signed in") || !strings.Contains(out, "tunnel open") {
		t.Fatalf("logs lack the expected events:\n%s", out)
	}
	// Any of the token's three parts would be a leak.
	for _, part := range strings.Split(tok, ".") {
		if len(part) > 8 && strings.Contains(out, part) {
			t.Fatalf("a token part appears in the logs:\n%s", out)
		}
	}
	for _, bad := range []string{"pomerium_jwt", "pomerium_session=", "code="} {
		if strings.Contains(out, bad) {
			t.Errorf("logs contain %q:\n%s", bad, out)
		}
	}
}
