package session

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzKeys have a fixed secret and clock, so that the seed tokens are the
// same on every run and stay valid.
func fuzzKeys(t testing.TB) *Keys {
	k, err := NewKeys([]byte("fuzz secret, not a real one"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	k.SetClock(func() time.Time { return at })
	return k
}

var (
	fuzzSession = Claims{Subject: "u1", Email: "a@example.com", Groups: []string{"g"}}
	fuzzState   = State{State: "s", Nonce: "n", Verifier: "v", Redirect: "/.pomerium/routes"}
)

// FuzzVerify feeds mutated tokens to Verify and OpenState: nothing
// panics, and whatever verifies carries exactly the claims that were
// signed: no forged or mixed-up token is accepted.
func FuzzVerify(f *testing.F) {
	k := fuzzKeys(f)
	sess, _ := k.Issue(fuzzSession, time.Hour)
	st, _ := k.SealState(fuzzState, time.Hour)
	expired, _ := k.Issue(fuzzSession, -time.Second)
	parts := strings.Split(sess, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	for _, s := range []string{
		sess, st, expired, "", ".", "..", "a.b.c", none + "." + parts[1] + ".",
		parts[0] + "." + parts[1] + ".", parts[0] + ".." + parts[2], sess + ".", " " + sess, sess + "=",
		strings.ToUpper(sess), parts[0] + "." + parts[1] + "A." + parts[2], `{"payload":"x","signatures":[]}`,
		strings.Repeat("a.", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if c, err := k.Verify(tok); err == nil {
			want := fuzzSession
			want.Issued, want.Expiry, want.Kind = c.Issued, c.Expiry, "session"
			if !reflect.DeepEqual(*c, want) || c.Expiry != k.now().Add(time.Hour).Unix() {
				t.Fatalf("Verify accepted %q with claims %+v; only the issued session verifies", tok, c)
			}
		}
		if s, err := k.OpenState(tok); err == nil {
			want := fuzzState
			want.Expiry, want.Kind = s.Expiry, "state"
			if !reflect.DeepEqual(*s, want) || s.Expiry != k.now().Add(time.Hour).Unix() {
				t.Fatalf("OpenState accepted %q with %+v; only the sealed state opens", tok, s)
			}
		}
	})
}

// FuzzRoundTrip: any claims and state survive signing, and a token of
// one kind never passes as the other.
func FuzzRoundTrip(f *testing.F) {
	f.Add("u1", "a@example.com", "g", "/.pomerium/routes", false)
	f.Add("", "", "", "", true)
	f.Add("\x00\xff", "\u202e@x", "a,b", "http://127.0.0.1:1/?x=\"", true)
	k := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, sub, email, group, redirect string, program bool) {
		c := Claims{Subject: sub, Email: email, Groups: []string{group}}
		tok, err := k.Issue(c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Verify(tok)
		if sub == "" {
			if err == nil {
				t.Fatalf("a session without a subject verified: %+v", got)
			}
		} else if err != nil || got.Subject != sub || got.Email != email || len(got.Groups) != 1 || got.Groups[0] != group {
			// JSON carries invalid UTF-8 as U+FFFD; compare what it keeps.
			if err != nil || !sameJSON(got.Subject, sub) || !sameJSON(got.Email, email) || len(got.Groups) != 1 || !sameJSON(got.Groups[0], group) {
				t.Fatalf("Verify(Issue(%+v)) = %+v, %v", c, got, err)
			}
		}
		if _, err := k.OpenState(tok); err == nil {
			t.Fatal("a session token opened as sign-in state")
		}
		st, err := k.SealState(State{State: sub, Redirect: redirect, Program: program}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		s, err := k.OpenState(st)
		if err != nil || !sameJSON(s.Redirect, redirect) || s.Program != program || !sameJSON(s.State, sub) {
			t.Fatalf("OpenState(SealState(...)) = %+v, %v", s, err)
		}
		if _, err := k.Verify(st); err == nil {
			t.Fatal("a sign-in state token verified as a session")
		}
	})
}

// sameJSON reports whether got is want after a JSON round trip, which
// turns invalid UTF-8 into U+FFFD.
func sameJSON(got, want string) bool {
	b, _ := json.Marshal(want)
	var back string
	json.Unmarshal(b, &back)
	return got == back
}
