package authn

import (
	"crypto/rand"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Device-code sign-in (RFC 8628) settings.
const (
	deviceCodeTTL  = 10 * time.Minute
	devicePollWait = 3 * time.Second
	// userCodeAlphabet has no vowels (no words) and no look-alikes.
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
)

func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	out := make([]byte, 8)
	for i, v := range b {
		// 20 divides 240: values from 240 up would bias; redraw them.
		for v >= 240 {
			var one [1]byte
			rand.Read(one[:])
			v = one[0]
		}
		out[i] = userCodeAlphabet[int(v)%len(userCodeAlphabet)]
	}
	return string(out)
}

// normalizeUserCode accepts "bcdf-ghjk", "BCDF GHJK" and "BCDFGHJK".
func normalizeUserCode(v string) string {
	v = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, v))
	if len(v) != 8 || strings.Trim(v, userCodeAlphabet) != "" {
		return ""
	}
	return v
}

func displayUserCode(v string) string { return v[:4] + "-" + v[4:] }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

func clientIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// handleDeviceCode is POST /.pomerium/api/v1/device/code: a new device
// code for a CLI that cannot receive a browser callback.
func (s *Service) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	if !s.limits.allow("code:"+clientIP(r), 10, time.Minute, s.now()) {
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "slow_down", "error_description": "too many device codes requested; wait a minute"})
		return
	}
	deviceCode := randomString()
	d := &DeviceCode{ID: hashToken(deviceCode), UserCode: newUserCode(), ExpiresAt: s.now().Add(deviceCodeTTL)}
	if err := s.store.PutDeviceCode(r.Context(), d); err != nil {
		s.internalError(w, "device code", err)
		return
	}
	verify := s.authURL(r, pathDevice, nil)
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": deviceCode, "user_code": displayUserCode(d.UserCode),
		"verification_uri":          verify,
		"verification_uri_complete": s.authURL(r, pathDevice, url.Values{"user_code": {displayUserCode(d.UserCode)}}),
		"expires_in":                int(deviceCodeTTL.Seconds()), "interval": int(devicePollWait.Seconds()),
	})
}

// handleDeviceToken is the CLI polling: authorization_pending until the
// user confirms, slow_down when polled faster than the interval, then the
// token exactly once.
func (s *Service) handleDeviceToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "form body expected")
		return
	}
	ctx := r.Context()
	d, err := s.store.GetDeviceCode(ctx, hashToken(r.PostForm.Get("device_code")))
	if err != nil {
		oauthError(w, "invalid_grant", "unknown device_code")
		return
	}
	now := s.now()
	switch {
	case !now.Before(d.ExpiresAt):
		s.store.DeleteDeviceCode(ctx, d.ID)
		oauthError(w, "expired_token", "the device code expired; start again")
		return
	case d.Denied:
		s.store.DeleteDeviceCode(ctx, d.ID)
		oauthError(w, "access_denied", "the sign-in was declined")
		return
	case now.Sub(d.LastPoll) < devicePollWait-200*time.Millisecond:
		oauthError(w, "slow_down", "polled too fast")
		return
	}
	if d.SessionID == "" {
		d.LastPoll = now
		if err := s.store.PutDeviceCode(ctx, d); err != nil {
			oauthError(w, "slow_down", "polled too fast")
			return
		}
		oauthError(w, "authorization_pending", "waiting for the user to confirm the code")
		return
	}
	if fresh, err := s.store.Revoke(ctx, "device:"+d.ID, "", "device code used", d.ExpiresAt); err != nil || !fresh {
		oauthError(w, "invalid_grant", "device code already used")
		return
	}
	s.store.DeleteDeviceCode(ctx, d.ID)
	sess, err := s.loadSession(ctx, d.SessionID)
	if err != nil {
		oauthError(w, "access_denied", "the session ended meanwhile")
		return
	}
	ttl := sess.ExpiresAt.Sub(now)
	tok, err := s.cliToken(sess, ttl)
	if err != nil {
		s.internalError(w, "device token", err)
		return
	}
	s.log.Info("device sign-in", "user", sess.Email)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Pomerium", "expires_in": int(ttl.Seconds())})
}

var devicePage = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in a device</title>
<style>body{font-family:system-ui,sans-serif;margin:4rem auto;max-width:30rem}input,button{font:inherit;padding:.4rem .8rem}.err{color:#b00020}</style></head>
<body>{{if .Done}}<h1>{{.Done}}</h1><p>You may close this page and return to your terminal.</p>{{else}}
<h1>Sign in a device as {{.User}}</h1>
<p>Enter the code your terminal shows. Confirm only a code you asked for yourself: the device gets access as you.</p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<form method="post" action="/.pomerium/device">
<label>Code <input name="user_code" value="{{.Code}}" autocomplete="off" autofocus></label>
<button type="submit" name="action" value="confirm" id="confirm">Confirm</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>{{end}}
</body></html>
`))

type devicePageData struct{ User, Code, Error, Done string }

// handleDevicePage is where the user confirms a code, on the
// authenticate host, signed in there through the normal IdP flow.
func (s *Service) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	if !s.isAuthenticateHost(r) {
		http.Redirect(w, r, s.authURL(r, pathDevice, r.URL.Query()), http.StatusFound)
		return
	}
	sess := s.cookieSession(r)
	if sess == nil {
		if r.Method != http.MethodGet {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		RedirectToSignIn(w, r)
		return
	}
	data := devicePageData{User: sess.Email, Code: r.URL.Query().Get("user_code")}
	if len(data.Code) > 16 {
		data.Code = ""
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		r.ParseForm()
		data.Code = r.PostForm.Get("user_code")
		if len(data.Code) > 16 {
			data.Code = ""
		}
		data.Error, data.Done = s.confirmDevice(r, sess, data.Code, r.PostForm.Get("action") == "deny")
	default:
		methodNotAllowed(w, "GET, POST")
		return
	}
	noStore(w)
	devicePage.Execute(w, data)
}

// confirmDevice attaches sess to the code (or declines it); at most five
// tries a minute per session, so codes cannot be guessed.
func (s *Service) confirmDevice(r *http.Request, sess *Session, code string, deny bool) (errMsg, done string) {
	if !s.limits.allow("confirm:"+sess.ID, 5, time.Minute, s.now()) {
		return "Too many attempts; wait a minute.", ""
	}
	uc := normalizeUserCode(code)
	if uc == "" {
		return "That is not a code of the form BCDF-GHJK.", ""
	}
	ctx := r.Context()
	d, err := s.store.DeviceCodeByUserCode(ctx, uc)
	if err != nil || !s.now().Before(d.ExpiresAt) || d.SessionID != "" || d.Denied {
		return "Unknown, used or expired code: start again on the device.", ""
	}
	if deny {
		d.Denied = true
	} else {
		d.SessionID = sess.ID
	}
	if err := s.store.PutDeviceCode(ctx, d); err != nil {
		return "The code changed meanwhile; try again.", ""
	}
	if deny {
		return "", "Sign-in declined."
	}
	s.log.Info("device code confirmed", "user", sess.Email)
	return "", "Device signed in as " + sess.Email + "."
}
