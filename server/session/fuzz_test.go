package session

import (
	"testing"
	"time"
)

// FuzzOpenCookie: nothing opens but what was sealed with this key for
// this host, and nothing panics.
func FuzzOpenCookie(f *testing.F) {
	k, err := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	good := k.SealCookie("session-id", "app.example.com")
	f.Add(good, "app.example.com")
	f.Add(good, "other.example.com")
	f.Add("", "")
	f.Add("%%%", "x")
	f.Add(good[:len(good)-2], "app.example.com")
	f.Fuzz(func(t *testing.T, v, host string) {
		id, err := k.OpenCookie(v, host)
		// Only "session-id" was ever sealed, and only for app.example.com.
		if err == nil && (host != "app.example.com" || id != "session-id") {
			t.Fatalf("OpenCookie(%q, %q) = %q; want only the sealed value to open", v, host, id)
		}
	})
}

// FuzzOpenHandoff: nothing but a handoff this key signed opens as one.
func FuzzOpenHandoff(f *testing.F) {
	k, err := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := k.SealHandoff(Handoff{ID: "h1", SessionID: "s1", Audience: "app:443", State: "st"}, time.Minute)
	sess, _ := k.Issue(Claims{Subject: "u", SessionID: "s1", TokenID: "t"}, time.Hour)
	f.Add(good)
	f.Add(sess)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, v string) {
		h, err := k.OpenHandoff(v)
		// Only one handoff was ever signed (a session token is not one).
		if err == nil && (h.ID != "h1" || h.SessionID != "s1" || h.Audience != "app:443") {
			t.Fatalf("OpenHandoff(%q) opened %+v", v, h)
		}
	})
}
