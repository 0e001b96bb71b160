package server

import (
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"

	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/routing"
)

// policyRequest is what the PPL request criteria see of r. The client
// certificate counts only once checkClientCert verified it against the
// route's client CA.
func policyRequest(r *http.Request, rt *routing.Route) *policy.Request {
	req := &policy.Request{
		Method:        r.Method,
		Path:          r.URL.Path,
		SourceIP:      net.ParseIP(sourceIP(r, rt.XFFNumTrustedHops)),
		CORSPreflight: isCORSPreflight(r),
	}
	req.ClientCert = verifiedCert(r)
	return req
}

// forbidden is the 403 page with the policy's explanation and
// remediation when it has them. Browsers get HTML (html/template
// escapes the texts, which an API admin or a config author wrote);
// everyone else gets text/plain with control characters shown escaped,
// since curl and pomerium-cli users read it on a terminal.
func forbidden(w http.ResponseWriter, r *http.Request, rt *routing.Route) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Controls and bidi overrides are spelt out in both forms: in a page
	// they could still reorder what the reader sees.
	page := forbiddenPage{Route: termtext.Escape(rt.Name), Why: termtext.Escape(oneLine(rt.Policy.Explanation)),
		What: termtext.Escape(oneLine(rt.Policy.Remediation))}
	if wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.WriteHeader(http.StatusForbidden)
		forbiddenHTML.Execute(w, page)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "access to %s is denied by its policy\n", page.Route)
	if page.Why != "" {
		fmt.Fprintf(w, "why: %s\n", page.Why)
	}
	if page.What != "" {
		fmt.Fprintf(w, "what to do: %s\n", page.What)
	}
}

type forbiddenPage struct{ Route, Why, What string }

var forbiddenHTML = template.Must(template.New("403").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>403 Forbidden</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}dt{font-weight:600;margin-top:1rem}</style>
</head><body>
<h1>Access to {{.Route}} is denied by its policy</h1>
{{if or .Why .What}}<dl>{{if .Why}}<dt>Why</dt><dd id="explanation">{{.Why}}</dd>{{end}}{{if .What}}<dt>What to do</dt><dd id="remediation">{{.What}}</dd>{{end}}</dl>{{end}}
<p><a href="/.pomerium/sign_out">Sign in as someone else</a></p>
</body></html>
`))

// wantsHTML reports whether r comes from a browser page load (its Accept
// names text/html); CONNECT never does.
func wantsHTML(r *http.Request) bool {
	if r.Method == http.MethodConnect {
		return false
	}
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(v), "text/html") {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
