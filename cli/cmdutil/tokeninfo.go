package cmdutil

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// TokenInfo is what a session token says about its user. The signature is
// not checked: this is for display only (the proxy decides what it
// accepts), and every field is server data to escape before printing.
type TokenInfo struct {
	Subject string
	Email   string
	Name    string
	Groups  int
	// HasGroups is false when the token carries no groups claim.
	HasGroups bool
	Expiry    time.Time
}

// maxTokenLen bounds the token decoded for display.
const maxTokenLen = 64 << 10

// ParseTokenInfo reads the claims of a JWT; false when tok is opaque.
func ParseTokenInfo(tok string) (TokenInfo, bool) {
	if len(tok) > maxTokenLen {
		return TokenInfo{}, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return TokenInfo{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return TokenInfo{}, false
	}
	var c struct {
		Sub    string          `json:"sub"`
		Email  string          `json:"email"`
		Name   string          `json:"name"`
		Groups json.RawMessage `json:"groups"`
		Exp    json.Number     `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return TokenInfo{}, false
	}
	ti := TokenInfo{Subject: c.Sub, Email: c.Email, Name: c.Name}
	var groups []json.RawMessage
	if len(c.Groups) > 0 && json.Unmarshal(c.Groups, &groups) == nil {
		ti.Groups, ti.HasGroups = len(groups), true
	}
	if f, err := c.Exp.Float64(); err == nil && f > 0 {
		ti.Expiry = time.Unix(int64(f), 0).UTC()
	}
	return ti, true
}

// Who names the token's user: the email, else the subject, else "".
func (t TokenInfo) Who() string {
	if t.Email != "" {
		return t.Email
	}
	return t.Subject
}
