package devidp

import (
	"html/template"
	"io"
	"net/http"
	"strings"
)

const (
	loginPath     = "/login"
	signedOutPath = "/signed-out"
)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to the Porthole dev provider</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;display:flex;justify-content:center}
main{max-width:28rem;width:100%;margin:4rem 1rem;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin:0 0 .3rem}p{color:#5b6475;margin:0 0 1.5rem}
button{display:block;width:100%;text-align:left;border:1px solid #d7dbe3;background:#fff;border-radius:8px;padding:.8rem 1rem;margin:.6rem 0;cursor:pointer;font:inherit}
button:hover,button:focus{border-color:#4f46e5;outline:none;background:#f7f7ff}
.email{font-weight:600}.name{color:#5b6475}.groups{font-size:.85rem;color:#4f46e5}
</style></head>
<body><main>
<h1>Sign in to the Porthole dev provider</h1>
<p>Development only: choose a user, no password needed.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="authRequestID" value="{{.ID}}">
{{range .Users}}<button type="submit" name="email" value="{{.Email}}">
<span class="email">{{.Email}}</span> <span class="name">{{.Name}}</span><br>
<span class="groups">{{if .Groups}}groups: {{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{end}}{{else}}no groups{{end}}</span>
</button>
{{end}}</form>
</main></body></html>
`))

// login shows the user list (GET) and completes the auth request as the
// chosen user (POST). With AutoLogin the GET completes it at once. The
// unguessable auth request id is what ties the form to the flow.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad sign-in request: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Form.Get("authRequestID")
	if _, err := p.store.AuthRequestByID(r.Context(), id); err != nil {
		http.Error(w, "sign-in request is unknown or expired: start the sign-in again from the application", http.StatusBadRequest)
		return
	}
	var sub string
	switch {
	case r.Method == http.MethodPost:
		email := r.PostForm.Get("email")
		sub = subjectFor(email)
		if _, ok := p.store.userBySubject(sub); !ok {
			http.Error(w, "unknown dev user "+quote(email)+": choose one of "+emails(p.users), http.StatusBadRequest)
			return
		}
	case r.Method == http.MethodGet && p.autoLogin != "":
		sub = p.autoLogin
	case r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("X-Frame-Options", "DENY")
		_ = loginPage.Execute(w, struct {
			Action string
			ID     string
			Users  []User
		}{p.issuer + loginPath, id, p.users})
		return
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := p.store.completeLogin(id, sub); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.callbackURL(id), http.StatusFound)
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

func signedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "Signed out of the Porthole dev provider.\n")
}
