package config

import (
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"ADDRESS":       "127.0.0.1:9443",
		"COOKIE_EXPIRE": "2h",
		"IDP_SCOPES":    "openid,email",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := ParseEnv([]byte("address: :443\ncookie_expire: 1h\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "127.0.0.1:9443" || cfg.CookieExpire != 2*time.Hour || strings.Join(cfg.IdpScopes, " ") != "openid email" {
		t.Errorf("got address %q, cookie_expire %v, scopes %v; want the environment's values", cfg.Address, cfg.CookieExpire, cfg.IdpScopes)
	}
	// An empty file takes the environment too.
	if cfg, err := ParseEnv(nil, lookup); err != nil || cfg.Address != "127.0.0.1:9443" {
		t.Errorf("empty file: got %+v, %v; want address from ADDRESS", cfg, err)
	}
	// A bad value from the environment is refused, naming the key.
	env["COOKIE_EXPIRE"] = "soon"
	if _, err := ParseEnv(nil, lookup); err == nil || !strings.Contains(err.Error(), "cookie_expire") {
		t.Errorf("bad COOKIE_EXPIRE: got %v; want an error naming cookie_expire", err)
	}
}
