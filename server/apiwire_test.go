package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPISettingsLogLevelLive: PATCHing logLevel through the API changes
// the running server's log level, with no restart.
func TestAPISettingsLogLevelLive(t *testing.T) {
	dir := t.TempDir()
	lv := new(slog.LevelVar)
	s, err := New(Options{Dev: true, DevDir: dir, Address: "127.0.0.1:18999", LogLevel: lv})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	h := s.Handler()
	call := func(method, path, auth, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, "http://127.0.0.1:18999/api/v0"+path, strings.NewReader(body))
		req.Host = "127.0.0.1:18999"
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	tok, err := os.ReadFile(filepath.Join(dir, "api-user-token"))
	if err != nil {
		t.Fatal(err)
	}
	code, out := call("POST", "/token", "", `{"refreshToken":"`+strings.TrimSpace(string(tok))+`"}`)
	if code != http.StatusOK {
		t.Fatalf("token: %d %v", code, out)
	}
	id := out["idToken"].(string)
	if code, out = call("GET", "/organizations/default/clusters/default/settings", id, ""); code != 200 || out["logLevel"] != "info" {
		t.Fatalf("settings: %d logLevel %v; want info", code, out["logLevel"])
	}
	code, out = call("PATCH", "/organizations/default/clusters/default/settings", id, `[{"op":"replace","path":"/logLevel","value":"debug"}]`)
	if code != http.StatusOK || out["logLevel"] != "debug" {
		t.Fatalf("patch: %d %v", code, out)
	}
	if lv.Level() != slog.LevelDebug {
		t.Errorf("log level after the PATCH = %v; want debug", lv.Level())
	}
	// The API is only for the server's own address, not a route's host.
	req := httptest.NewRequest("GET", "http://app.example.com/api/v0/organizations", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "organizationType") {
		t.Errorf("the API answered on another host: %d %s", rec.Code, rec.Body.String())
	}
}
