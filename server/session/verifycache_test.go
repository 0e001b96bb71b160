package session

import (
	"testing"
	"time"
)

// Verify keeps tokens it checked, so a CLI's token is parsed once for all
// its tunnels; what it keeps must never let a token through that a fresh
// check would refuse, nor share state with callers.
func TestVerifyRemembersSignedTokensOnly(t *testing.T) {
	k, err := NewKeys([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	k.now = func() time.Time { return now }
	tok, err := k.Issue(Claims{Subject: "u1", Email: "a@example.com", Groups: []string{"g"}, Claims: map[string]any{"x": "y"}, SessionID: "s", TokenID: "j"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	first, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	// A caller changing its copy changes nothing for the next one.
	first.Email, first.Groups[0], first.Claims["x"] = "evil@example.com", "admins", "z"
	second, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if second.Email != "a@example.com" || second.Groups[0] != "g" || second.Claims["x"] != "y" || second.SessionID != "s" || second.TokenID != "j" {
		t.Fatalf("remembered claims changed: %+v", second)
	}
	// Expiry is checked on every use, remembered or not.
	now = now.Add(2 * time.Hour)
	if _, err := k.Verify(tok); err == nil {
		t.Fatal("an expired token was accepted from memory")
	}
	now = now.Add(-2 * time.Hour)
	// Tampered or foreign tokens are never accepted, and never kept.
	other, _ := NewKeys([]byte("other secret"))
	other.now = k.now
	foreign, _ := other.Issue(Claims{Subject: "u1"}, time.Hour)
	for _, bad := range []string{tok[:len(tok)-2] + "xx", foreign, "", "a.b.c"} {
		if _, err := k.Verify(bad); err == nil {
			t.Fatalf("accepted %q", bad)
		}
		if _, err := k.Verify(bad); err == nil {
			t.Fatalf("accepted %q the second time", bad)
		}
	}
	// The set stays bounded.
	for i := range verifiedMax + 10 {
		tk, _ := k.Issue(Claims{Subject: "u", TokenID: string(rune('a' + i%26))}, time.Duration(i+1)*time.Second+time.Hour)
		if _, err := k.Verify(tk); err != nil {
			t.Fatal(err)
		}
	}
	k.verifiedMu.Lock()
	n := len(k.verified)
	k.verifiedMu.Unlock()
	if n > verifiedMax {
		t.Fatalf("%d tokens remembered; at most %d", n, verifiedMax)
	}
}
