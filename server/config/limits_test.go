package config

import (
	"strings"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      Limits
	}{
		{"defaults", "", Limits{TimeoutRead: 30 * time.Second, TimeoutWrite: time.Minute, TimeoutIdle: 2 * time.Minute,
			TimeoutReadHeader: 10 * time.Second, MaxConnections: 10000, MaxHeaderBytes: 64 << 10}},
		{"all set", "timeout_read: 5s\ntimeout_write: 7s\ntimeout_idle: 90s\ntimeout_read_header: 2s\nmax_connections: 50\nmax_header_bytes: 8192\n",
			Limits{TimeoutRead: 5 * time.Second, TimeoutWrite: 7 * time.Second, TimeoutIdle: 90 * time.Second,
				TimeoutReadHeader: 2 * time.Second, MaxConnections: 50, MaxHeaderBytes: 8192}},
		{"explicit unlimited read and write", "timeout_read: 0s\ntimeout_write: 0s\n", Limits{TimeoutIdle: 2 * time.Minute,
			TimeoutReadHeader: 10 * time.Second, MaxConnections: 10000, MaxHeaderBytes: 64 << 10}},
		{"null is unset", "timeout_idle:\nmax_connections: ~\n", Limits{TimeoutRead: 30 * time.Second, TimeoutWrite: time.Minute,
			TimeoutIdle: 2 * time.Minute, TimeoutReadHeader: 10 * time.Second, MaxConnections: 10000, MaxHeaderBytes: 64 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Limits.Effective()
			got.readSet, got.writeSet = false, false
			if got != tc.want {
				t.Errorf("got %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestLimitsErrors(t *testing.T) {
	for doc, want := range map[string]string{
		"timeout_idle: 0s":           "timeout_idle: must be more than 0",
		"timeout_read_header: 0s":    "timeout_read_header: must be more than 0",
		"timeout_idle: -1s":          "timeout_idle: must not be negative",
		"timeout_write: soon":        "timeout_write: want a duration",
		"timeout_read: [1s]":         "timeout_read: want a duration",
		"max_connections: 0":         "max_connections: want a whole number from 1",
		"max_connections: 1.5":       "max_connections: want a whole number",
		"max_connections: lots":      "max_connections: want a whole number",
		"max_connections: {a: 1}":    "max_connections: want a whole number",
		"max_header_bytes: 100":      "max_header_bytes: want a whole number from 1024 to 1048576",
		"max_header_bytes: 99999999": "max_header_bytes: want a whole number from 1024",
		"timeout_idel: 1m":           "unknown key \"timeout_idel\"",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v; want one line containing %q", doc, err, want)
		}
	}
}

func TestLimitsFromEnvironment(t *testing.T) {
	env := map[string]string{"TIMEOUT_IDLE": "45s", "MAX_CONNECTIONS": "300"}
	cfg, err := ParseEnv([]byte("timeout_idle: 5m\n"), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Limits.Effective(); l.TimeoutIdle != 45*time.Second || l.MaxConnections != 300 {
		t.Errorf("got timeout_idle %v, max_connections %d; want 45s and 300 from the environment", l.TimeoutIdle, l.MaxConnections)
	}
}
