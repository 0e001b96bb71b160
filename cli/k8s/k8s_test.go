package k8s

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

func jwtWithExp(exp int64) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(map[string]int64{"exp": exp})
	return enc([]byte(`{"alg":"ES256"}`)) + "." + enc(payload) + ".c2ln"
}

func TestNewExecCredential(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(30 * time.Minute)
	c := NewExecCredential(jwtWithExp(exp.Unix()), APIVersion, now)
	if c.Kind != "ExecCredential" || c.APIVersion != APIVersion || !c.Status.ExpirationTimestamp.Equal(exp) {
		t.Errorf("got %+v; want kind ExecCredential, %s, expiring at %s", c, APIVersion, exp)
	}
	if c.Status.Token != "Pomerium-"+jwtWithExp(exp.Unix()) {
		t.Errorf("token %q; want Pomerium-<jwt>", c.Status.Token)
	}
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	if st := m["status"].(map[string]any); st["expirationTimestamp"] != "2026-12-01T12:30:00Z" {
		t.Errorf("expirationTimestamp %v; want RFC 3339 in UTC", st["expirationTimestamp"])
	}
	// An opaque token (no exp): kubectl asks again within the hour.
	if c := NewExecCredential("opaque", APIVersion, now); !c.Status.ExpirationTimestamp.Equal(now.Add(unknownExpiry)) {
		t.Errorf("opaque token expiry %s; want now+%s", c.Status.ExpirationTimestamp, unknownExpiry)
	}
}

func TestRequestedVersion(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", APIVersion},
		{`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential"}`, "client.authentication.k8s.io/v1beta1"},
		{`{"apiVersion":"client.authentication.k8s.io/v1"}`, APIVersion},
		{`{"apiVersion":"evil/v9"}`, APIVersion},
		{`not json`, APIVersion},
	} {
		ios, _, _, _ := cmdutil.TestIO()
		f := &cmdutil.Factory{IO: ios, Getenv: func(k string) string {
			if k == "KUBERNETES_EXEC_INFO" {
				return tc.env
			}
			return ""
		}}
		if got := requestedVersion(f); got != tc.want {
			t.Errorf("KUBERNETES_EXEC_INFO %q: got %q; want %q", tc.env, got, tc.want)
		}
	}
}
