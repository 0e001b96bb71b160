package authflow

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Expired reports whether tok is a JWT whose exp has passed. The signature
// is not checked (the proxy does that); a token that is not a readable JWT
// is opaque and never counts as expired.
func Expired(tok string) bool {
	exp, ok := expiry(tok)
	return ok && !time.Now().Before(exp)
}

func expiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(b, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
