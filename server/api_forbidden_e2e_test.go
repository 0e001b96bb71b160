package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestAPIPolicyTextsOn403: a policy made through the management API
// with an explanation and a remediation denies a route made through the
// API; the 403 page shows both texts (HTML for a browser, escaped by
// html/template; text/plain for curl, controls spelt out), and a PUT of
// new texts shows at once.
func TestAPIPolicyTextsOn403(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	z := newZero(t, d)
	org, ns := guideLogin(t, z, d)
	verifyTo := ""
	var routes []map[string]any
	z.do("GET", "/organizations/"+org+"/routes", nil, 200, &routes)
	for _, r := range routes {
		if r["name"] == "verify" {
			verifyTo = r["to"].([]any)[0].(string)
		}
	}
	if verifyTo == "" {
		t.Fatalf("no verify route among %v", routes)
	}

	const (
		explanation = "Only <b>ops</b> & \"admins\" may enter.\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe"
		remediation = "Ask in #help <script>alert(1)</script>\r\nX-Injected: 1"
	)
	pol := map[string]any{
		"namespaceId": ns, "name": "ops only", "enforced": false,
		"ppl":         map[string]any{"allow": map[string]any{"and": []any{map[string]any{"email": map[string]any{"is": "ops@example.com"}}}}},
		"explanation": explanation, "remediation": remediation,
	}
	var created map[string]any
	z.do("POST", "/organizations/"+org+"/policies", pol, 201, &created)
	host := "denied.localhost:" + d.URL.Port()
	z.do("POST", "/organizations/"+org+"/routes", map[string]any{
		"namespaceId": ns, "name": "denied", "from": "https://" + host, "to": []string{verifyTo},
		"policyIds": []any{created["id"]},
	}, 201, nil)

	tok := loginToken(t, d)
	c := apiClient(t, d)
	page := func(accept string) (*http.Response, string) {
		return get(t, c, "https://"+host+"/", map[string]string{"Authorization": "Pomerium " + tok, "Accept": accept})
	}

	t.Run("browser", func(t *testing.T) {
		resp, body := page("text/html,application/xhtml+xml,*/*;q=0.8")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d; want 403: %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q; want text/html", ct)
		}
		for _, want := range []string{
			`id="explanation">Only &lt;b&gt;ops&lt;/b&gt; &amp; &#34;admins&#34; may enter.\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe</dd>`,
			`id="remediation">Ask in #help &lt;script&gt;alert(1)&lt;/script&gt; X-Injected: 1</dd>`,
			"Access to denied is denied by its policy",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("403 page lacks %q:\n%s", want, body)
			}
		}
		for _, bad := range []string{"<script>", "<b>", "\x1b", "\u202e", "\r"} {
			if strings.Contains(body, bad) {
				t.Errorf("403 page holds %q raw:\n%s", bad, body)
			}
		}
	})

	t.Run("curl", func(t *testing.T) {
		resp, body := page("*/*")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d; want 403: %s", resp.StatusCode, body)
		}
		want := "access to denied is denied by its policy\n" +
			`why: Only <b>ops</b> & "admins" may enter.\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe` + "\n" +
			"what to do: Ask in #help <script>alert(1)</script> X-Injected: 1\n"
		if body != want {
			t.Errorf("403 body:\n%q\nwant\n%q", body, want)
		}
		if err := termtest.Check(body, false); err != nil {
			t.Errorf("403 body would drive a terminal: %v", err)
		}
	})

	t.Run("edited live", func(t *testing.T) {
		pol["explanation"], pol["remediation"] = "Ops only since the audit.", ""
		z.do("PUT", "/organizations/"+org+"/policies/"+created["id"].(string), pol, 200, nil)
		var body string
		within(t, 2*time.Minute, "the new explanation on the 403 page", func() bool {
			_, body = page("*/*")
			return strings.Contains(body, "why: Ops only since the audit.\n")
		})
		if strings.Contains(body, "what to do:") {
			t.Errorf("the removed remediation is still shown:\n%s", body)
		}
	})
}
