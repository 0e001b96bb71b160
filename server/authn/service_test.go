package authn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/session"
)

// clock is a settable time for the device-code state machine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestService(t *testing.T) (*Service, *clock) {
	t.Helper()
	keys, err := session.NewKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	keys.SetClock(clk.now)
	s, err := New(Options{Store: NewMemoryStore(), Keys: keys, Now: clk.now,
		AuthenticateURL: &url.URL{Scheme: "https", Host: "auth.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func call(t *testing.T, s *Service, method, target string, form url.Values, cookie string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.1:1234"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		r.Header.Set("Cookie", SessionCookie+"="+cookie)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	var v map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		json.Unmarshal(w.Body.Bytes(), &v)
	}
	return w, v
}

// TestDeviceCodeStates: pending, slow_down when polled too fast,
// access_denied after a decline, expired_token after ten minutes, the
// token exactly once, and five confirmation tries a minute per session.
func TestDeviceCodeStates(t *testing.T) {
	s, clk := newTestService(t)
	tok, err := s.IssueToken(context.Background(), session.Claims{Subject: "u1", Email: "u1@example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.keys.Verify(tok)
	cookie := s.keys.SealCookie(c.SessionID, "auth.example")
	newCode := func() (device, user string) {
		w, v := call(t, s, "POST", "https://proxy.example"+pathDeviceCode, nil, "")
		if w.Code != http.StatusOK || v["verification_uri"] != "https://auth.example/.pomerium/device" {
			t.Fatalf("device code: got %d %v", w.Code, v)
		}
		return v["device_code"].(string), v["user_code"].(string)
	}
	poll := func(device string) (int, string, string) {
		w, v := call(t, s, "POST", "https://proxy.example"+pathDeviceToken, url.Values{"device_code": {device}}, "")
		e, _ := v["error"].(string)
		tok, _ := v["access_token"].(string)
		return w.Code, e, tok
	}
	confirm := func(user, action string) string {
		w, _ := call(t, s, "POST", "https://auth.example"+pathDevice, url.Values{"user_code": {user}, "action": {action}}, cookie)
		return w.Body.String()
	}

	device, user := newCode()
	if _, e, _ := poll(device); e != "authorization_pending" {
		t.Errorf("first poll: got %q; want authorization_pending", e)
	}
	if _, e, _ := poll(device); e != "slow_down" {
		t.Errorf("immediate second poll: got %q; want slow_down", e)
	}
	if !strings.Contains(confirm(user, "confirm"), "Device signed in as u1@example.com") {
		t.Fatal("confirming the code failed")
	}
	clk.add(devicePollWait)
	code, e, got := poll(device)
	if code != http.StatusOK || got == "" {
		t.Fatalf("poll after confirming: got %d %q; want the token", code, e)
	}
	if cl, err := s.keys.Verify(got); err != nil || cl.SessionID != c.SessionID || cl.TokenID == c.TokenID {
		t.Errorf("device token: %+v %v; want a new token of the confirming session", cl, err)
	}
	clk.add(devicePollWait)
	if _, e, _ := poll(device); e != "invalid_grant" {
		t.Errorf("polling a used code: got %q; want invalid_grant", e)
	}

	device, user = newCode()
	confirm(user, "deny")
	clk.add(devicePollWait)
	if _, e, _ := poll(device); e != "access_denied" {
		t.Errorf("after a decline: got %q; want access_denied", e)
	}

	device, _ = newCode()
	clk.add(deviceCodeTTL)
	if _, e, _ := poll(device); e != "expired_token" {
		t.Errorf("after ten minutes: got %q; want expired_token", e)
	}

	clk.add(time.Minute) // a fresh window for guessing
	for i := range 5 {
		if body := confirm("BCDF-GHJK", "confirm"); !strings.Contains(body, "Unknown, used or expired code") {
			t.Fatalf("guess %d: got %q; want refused as unknown", i+1, body)
		}
	}
	if body := confirm("BCDF-GHJK", "confirm"); !strings.Contains(body, "Too many attempts") {
		t.Errorf("sixth guess within a minute: got %q; want rate-limited", body)
	}
	if w, _ := call(t, s, "GET", "https://auth.example"+pathDevice, nil, ""); w.Code != http.StatusFound {
		t.Errorf("device page without a session: got %d; want 302 to sign in", w.Code)
	}
}

// TestDeviceCodeIssuanceLimited: one address gets at most ten codes a minute.
func TestDeviceCodeIssuanceLimited(t *testing.T) {
	s, _ := newTestService(t)
	for i := range 10 {
		if w, _ := call(t, s, "POST", "https://proxy.example"+pathDeviceCode, nil, ""); w.Code != http.StatusOK {
			t.Fatalf("code %d: got %d; want 200", i+1, w.Code)
		}
	}
	if w, _ := call(t, s, "POST", "https://proxy.example"+pathDeviceCode, nil, ""); w.Code != http.StatusTooManyRequests {
		t.Errorf("eleventh code within a minute: got %d; want 429", w.Code)
	}
}

func TestUserCodeShape(t *testing.T) {
	for range 200 {
		c := newUserCode()
		if normalizeUserCode(displayUserCode(c)) != c || strings.Trim(c, userCodeAlphabet) != "" {
			t.Fatalf("user code %q does not round-trip", c)
		}
	}
	for _, bad := range []string{"", "AEIO-UAEI", "BCDF-GHJ", "BCDF-GHJKL", "bcdf\x1bghjk"} {
		if normalizeUserCode(bad) != "" {
			t.Errorf("normalizeUserCode(%q) accepted", bad)
		}
	}
}

// TestServiceAccountIDIsNoFlag: a service account ID can be given to a
// command line as is (one in 64 started with "-" and was taken for flags).
func TestServiceAccountIDIsNoFlag(t *testing.T) {
	for range 5000 {
		if id := serviceAccountID(); len(id) != 22 || strings.HasPrefix(id, "-") {
			t.Fatalf("service account ID %q; want 22 characters, not starting with -", id)
		}
	}
}

// TestCookieExpireIsTheBound: a session ends at cookie_expire whatever
// its tokens, for the cookie and the CLI token alike; a revoked CLI token
// ends alone.
func TestCookieExpireIsTheBound(t *testing.T) {
	s, clk := newTestService(t)
	tok, err := s.IssueToken(context.Background(), session.Claims{Subject: "u1", Email: "u1@example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.cliToken(&Session{ID: mustVerify(t, s, tok).SessionID, UserID: "u1"}, time.Hour)
	cookie := s.keys.SealCookie(mustVerify(t, s, tok).SessionID, "app.example")
	authed := func(cookie, tok string) bool {
		r := httptest.NewRequest("GET", "https://app.example/", nil)
		if cookie != "" {
			r.Header.Set("Cookie", SessionCookie+"="+cookie)
		}
		if tok != "" {
			r.Header.Set("Authorization", "Pomerium "+tok)
		}
		return s.Authenticate(r).Session != nil
	}
	if !authed(cookie, "") || !authed("", tok) || !authed("", other) {
		t.Fatal("fresh session refused")
	}
	if authed(s.keys.SealCookie(mustVerify(t, s, tok).SessionID, "other.example"), "") {
		t.Error("a cookie sealed for another host was accepted")
	}
	r := httptest.NewRequest("POST", "https://app.example"+pathLogoutAPI, nil)
	r.Header.Set("Authorization", "Pomerium "+other)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusNoContent || authed("", other) || !authed("", tok) || !authed(cookie, "") {
		t.Errorf("logout of one token: got %d; want only that token refused", w.Code)
	}
	clk.add(time.Hour)
	if authed(cookie, "") || authed("", tok) {
		t.Error("session accepted past cookie_expire")
	}
}

func mustVerify(t *testing.T, s *Service, tok string) *session.Claims {
	t.Helper()
	c, err := s.keys.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
