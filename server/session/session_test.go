package session

import (
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	k, err := NewKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewKeys(nil)
	good, _ := k.Issue(Claims{Subject: "u1", Email: "a@example.com", Groups: []string{"g"}}, time.Hour)
	expired, _ := k.Issue(Claims{Subject: "u1"}, -time.Second)
	foreign, _ := other.Issue(Claims{Subject: "u1"}, time.Hour)
	state, _ := k.SealState(State{State: "s"}, time.Hour)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	for _, tc := range []struct {
		name, tok string
		ok        bool
	}{
		{"good", good, true},
		{"expired", expired, false},
		{"other key", foreign, false},
		{"state token as session", state, false},
		{"tampered", tampered, false},
		{"garbage", "garbage", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := k.Verify(tc.tok)
			if (err == nil) != tc.ok {
				t.Fatalf("got err %v; want ok=%v", err, tc.ok)
			}
			if tc.ok && (c.Email != "a@example.com" || c.Groups[0] != "g") {
				t.Errorf("claims: got %+v", c)
			}
		})
	}
	if _, err := k.OpenState(good); err == nil {
		t.Error("session token opened as state; want refused")
	}
}

func TestDerivedKeysAreStable(t *testing.T) {
	a, _ := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	b, _ := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	c, _ := NewKeys([]byte("another secret of 32 bytes......"))
	tok, _ := a.Issue(Claims{Subject: "u"}, time.Hour)
	if _, err := b.Verify(tok); err != nil {
		t.Errorf("same secret: got %v; want the token accepted", err)
	}
	if _, err := c.Verify(tok); err == nil {
		t.Error("different secret accepted the token")
	}
}
