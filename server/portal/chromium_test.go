package portal_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/portal"
)

// TestPageInChromium loads the rendered page in headless Chromium and
// checks the DOM after its script ran: the filter box and copy buttons
// appear, the filter (typed, or from ?q=) hides non-matching cards, a copy
// button reacts to a click, and without JavaScript every card is shown.
func TestPageInChromium(t *testing.T) {
	chrome := testutil.Require(t, "chromium")
	cfg, err := config.Parse([]byte(`
routes:
  - from: tcp+https://127.0.0.1:8443/echo.internal:7000
    to: tcp://127.0.0.1:7000
    description: echoes bytes
    allow_any_authenticated_user: true
  - from: tcp+https://admin-echo.localhost:7001
    name: admin-echo
    to: tcp://127.0.0.1:7000
    allowed_users: [dev@example.com]
  - from: https://verify.localhost:8443
    to: http://127.0.0.1:9000
    description: <script>document.title="pwned"</script>
    allow_any_authenticated_user: true
    logo_url: https://127.0.0.1:1/unreachable.png
  - from: https://pixel.localhost:8443
    to: http://127.0.0.1:9000
    allow_any_authenticated_user: true
    logo_url: data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7
`))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	entries := portal.Entries(cfg.Routes, &policy.Identity{Email: "dev@example.com"})
	var page bytes.Buffer
	if err := portal.WriteHTML(&page, portal.PageData{User: "dev@example.com", SignOutURL: "/.pomerium/sign_out", Entries: entries}); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "routes.html")
	if err := os.WriteFile(plain, withReporter(page.Bytes(), ""), 0o600); err != nil {
		t.Fatal(err)
	}
	// A copy with a test script appended that types into the filter and
	// clicks a copy button the way a user would, through the page's own
	// event handlers, and records what it saw in attributes of <body>.
	// The button answers when the clipboard does (a promise, however slow
	// the machine), so the driver records the first label other than
	// "Copy" as it changes (before the page's timer puts "Copy" back) and
	// holds the report until then (data-pending).
	driver := `<script>
document.body.setAttribute("data-pending", "copy label");
var f = document.getElementById("filter");
f.value = "verify.localhost";
f.dispatchEvent(new Event("input"));
var b = document.querySelector("button.copy");
new MutationObserver(function (ms, obs) {
  if (b.textContent === "Copy") { return; }
  obs.disconnect();
  document.body.setAttribute("data-copy-label", b.textContent);
  document.body.removeAttribute("data-pending");
}).observe(b, {childList: true, characterData: true, subtree: true});
b.click();
</script>`
	driven := filepath.Join(dir, "driven.html")
	if err := os.WriteFile(driven, withReporter(bytes.Replace(page.Bytes(), []byte("</body>"), []byte(driver+"</body>"), 1), ""), 0o600); err != nil {
		t.Fatal(err)
	}

	cardIDs := map[string]string{} // name -> element id
	for _, e := range entries {
		cardIDs[e.Name] = "route-" + e.ID
	}

	t.Run("script enhances the page", func(t *testing.T) {
		doc := dumpDOM(t, chrome, dir, "file://"+plain)
		if el := byID(doc, "tools"); el == nil || hasAttr(el, "hidden") {
			t.Errorf("filter box: %v; want present and shown", el)
		}
		buttons := findAll(doc, func(n *html.Node) bool { return n.Data == "button" && strings.Contains(attr(n, "class"), "copy") })
		if len(buttons) != 2 {
			t.Errorf("copy buttons = %d; want 2 (echo, admin-echo)", len(buttons))
		}
		for _, b := range buttons {
			if hasAttr(b, "hidden") {
				t.Errorf("copy button for %q still hidden", attr(b, "data-copy"))
			}
		}
		for name, id := range cardIDs {
			if el := byID(doc, id); el == nil || hasAttr(el, "hidden") {
				t.Errorf("card %s: %v; want shown", name, el)
			}
		}
		// The unreachable logo fell back to the initial; the data: one stayed.
		if el := byID(doc, cardIDs["verify"]); el == nil || len(findAll(el, func(n *html.Node) bool { return n.Data == "img" })) != 0 ||
			len(findAll(el, func(n *html.Node) bool { return attr(n, "class") == "mono" && text(n) == "V" })) != 1 {
			t.Errorf("verify card: want its broken logo replaced by the initial V")
		}
		if el := byID(doc, cardIDs["pixel"]); el == nil || len(findAll(el, func(n *html.Node) bool { return n.Data == "img" })) != 1 {
			t.Errorf("pixel card: want its data: logo kept")
		}
		if title := text(findAll(doc, func(n *html.Node) bool { return n.Data == "title" })[0]); title != "Routes" {
			t.Errorf("title = %q; want Routes (the description's script must not run)", title)
		}
	})

	t.Run("typing filters and copy reacts", func(t *testing.T) {
		doc := dumpDOM(t, chrome, dir, "file://"+driven)
		for name, id := range cardIDs {
			el := byID(doc, id)
			if want := name != "verify"; el == nil || hasAttr(el, "hidden") != want {
				t.Errorf("card %s hidden = %v; want %v after typing \"verify\"", name, el != nil && hasAttr(el, "hidden"), want)
			}
		}
		if nm := byID(doc, "nomatch"); nm == nil || !hasAttr(nm, "hidden") {
			t.Errorf("no-match message shown while a card matches")
		}
		body := findAll(doc, func(n *html.Node) bool { return n.Data == "body" })[0]
		if label := attr(body, "data-copy-label"); label != "Copied" && label != "Press Ctrl+C" {
			t.Errorf("copy button label after click = %q; want Copied or Press Ctrl+C", label)
		}
	})

	t.Run("script runs under the page's CSP with its nonce", func(t *testing.T) {
		const nonce = "dGVzdG5vbmNlMTIzNDU2"
		var withNonce bytes.Buffer
		if err := portal.WriteHTML(&withNonce, portal.PageData{User: "dev@example.com", Entries: entries, Nonce: nonce}); err != nil {
			t.Fatalf("WriteHTML: %v", err)
		}
		// A <meta> CSP is what a file:// page can carry; the server sends
		// the same value as a header.
		meta := []byte(`<meta http-equiv="Content-Security-Policy" content="` + portal.ContentSecurityPolicy(nonce) + `">`)
		b := bytes.Replace(withNonce.Bytes(), []byte(`<meta charset="utf-8">`), append([]byte(`<meta charset="utf-8">`), meta...), 1)
		// An injected script without the nonce must not run.
		b = bytes.Replace(b, []byte("</body>"), []byte(`<script>document.body.setAttribute("data-injected", "ran")</script></body>`), 1)
		f := filepath.Join(dir, "csp.html")
		if err := os.WriteFile(f, withReporter(b, nonce), 0o600); err != nil {
			t.Fatal(err)
		}
		doc := dumpDOM(t, chrome, dir, "file://"+f+"?q=echo")
		if el := byID(doc, "tools"); el == nil || hasAttr(el, "hidden") {
			t.Errorf("filter box hidden under the CSP; want the nonce'd script to run")
		}
		if el := byID(doc, cardIDs["verify"]); el == nil || !hasAttr(el, "hidden") {
			t.Errorf("verify card shown for ?q=echo under the CSP; want the filter applied")
		}
		body := findAll(doc, func(n *html.Node) bool { return n.Data == "body" })[0]
		if hasAttr(body, "data-injected") {
			t.Errorf("a script without the nonce ran; want the CSP to block it")
		}
	})

	t.Run("q parameter filters on load", func(t *testing.T) {
		doc := dumpDOM(t, chrome, dir, "file://"+plain+"?q=ADMIN")
		for name, id := range cardIDs {
			el := byID(doc, id)
			if want := name != "admin-echo"; el == nil || hasAttr(el, "hidden") != want {
				t.Errorf("card %s hidden = %v; want %v for ?q=ADMIN", name, el != nil && hasAttr(el, "hidden"), want)
			}
		}
	})

	t.Run("no match shows the message", func(t *testing.T) {
		doc := dumpDOM(t, chrome, dir, "file://"+plain+"?q=zzz-nothing")
		for name, id := range cardIDs {
			if el := byID(doc, id); el == nil || !hasAttr(el, "hidden") {
				t.Errorf("card %s shown; want hidden for ?q=zzz-nothing", name)
			}
		}
		if nm := byID(doc, "nomatch"); nm == nil || hasAttr(nm, "hidden") {
			t.Errorf("no-match message hidden; want shown")
		}
	})

	t.Run("readable without JavaScript", func(t *testing.T) {
		// The page reports its DOM with a script of the test's, so the
		// page's own script is cut out instead of disabling scripts: the
		// same as a browser that does not run it.
		start := bytes.Index(page.Bytes(), []byte("<script"))
		end := bytes.Index(page.Bytes(), []byte("</script>"))
		if start < 0 || end < start {
			t.Fatalf("no inline script in the page")
		}
		noJS := filepath.Join(dir, "nojs.html")
		stripped := append(append([]byte{}, page.Bytes()[:start]...), page.Bytes()[end+len("</script>"):]...)
		if err := os.WriteFile(noJS, withReporter(stripped, ""), 0o600); err != nil {
			t.Fatal(err)
		}
		doc := dumpDOM(t, chrome, dir, "file://"+noJS+"?q=zzz-nothing")
		for name, id := range cardIDs {
			if el := byID(doc, id); el == nil || hasAttr(el, "hidden") {
				t.Errorf("card %s: %v; want shown without JavaScript", name, el)
			}
		}
		if el := byID(doc, "tools"); el == nil || !hasAttr(el, "hidden") {
			t.Errorf("filter box shown without JavaScript; want hidden (it could not work)")
		}
		codes := findAll(doc, func(n *html.Node) bool { return n.Data == "code" })
		if len(codes) != 2 || !strings.HasPrefix(text(codes[0]), "pomerium-cli tcp ") {
			t.Errorf("connect commands without JavaScript = %d; want 2 readable <code> blocks", len(codes))
		}
	})
}

// reporter is appended to every page the test loads: once the page has
// loaded (its own script has run, failed logos were replaced) and nothing
// holds the report (data-pending on <body>), it navigates to the report
// URL given in the address's fragment with the serialised DOM. The test
// waits for that report instead of a --dump-dom, which Chromium takes
// when its virtual time runs out, however far the page got on a loaded
// machine. A navigation is not a fetch, so the page's CSP allows it.
const reporter = `<script%s>
(function () {
  var to = location.hash.slice(1);
  function report() {
    if (document.body.hasAttribute("data-pending")) { setTimeout(report, 20); return; }
    location.replace(to + "?dom=" + encodeURIComponent(document.documentElement.outerHTML));
  }
  window.addEventListener("load", function () { setTimeout(report, 0); });
})();
</script>`

// withReporter appends the reporter (with the page's CSP nonce, if any).
func withReporter(page []byte, nonce string) []byte {
	attr := ""
	if nonce != "" {
		attr = ` nonce="` + nonce + `"`
	}
	return bytes.Replace(page, []byte("</body>"), []byte(fmt.Sprintf(reporter, attr)+"</body>"), 1)
}

// dumpDOM runs headless Chromium on url (a page carrying the reporter)
// and parses the DOM the page reports.
func dumpDOM(t *testing.T, chrome, dir, url string) *html.Node {
	t.Helper()
	reports := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case reports <- r.URL.Query().Get("dom"):
		default:
		}
		io.WriteString(w, "reported")
	}))
	defer srv.Close()
	profile, err := os.MkdirTemp(dir, "profile-")
	if err != nil {
		t.Fatal(err)
	}
	// --remote-debugging-port keeps headless Chromium on the page until
	// the test is done with it.
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--remote-debugging-port=0", url + "#" + srv.URL + "/report"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chrome, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var dom string
	select {
	case dom = <-reports:
		cancel()
		<-exited
	case err := <-exited:
		t.Fatalf("chromium exited before %s reported its DOM: %v\n%s", url, err, lastLines(stderr.String(), 20))
	case <-time.After(2 * time.Minute):
		cancel()
		<-exited
		t.Fatalf("no DOM reported by %s in 2m\nstderr:\n%s", url, lastLines(stderr.String(), 20))
	}
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("parsing Chromium's DOM: %v", err)
	}
	if byID(doc, "routes") == nil && byID(doc, "empty") == nil {
		t.Fatalf("Chromium's DOM has no routes list:\n%s\nstderr:\n%s", dom, lastLines(stderr.String(), 20))
	}
	return doc
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byID(doc *html.Node, id string) *html.Node {
	found := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}
