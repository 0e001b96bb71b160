package portal

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PageData is what the HTML page shows.
type PageData struct {
	User       string // email of the signed-in user, "" when anonymous
	SignOutURL string
	Entries    []Entry
	// Nonce, when set, is put on the inline <style> and <script> so a
	// Content-Security-Policy with 'nonce-...' lets them run.
	Nonce string
}

// WriteHTML renders the routes page (readable without JavaScript; the
// copy buttons and filter box use a little inline JS).
func WriteHTML(w io.Writer, d PageData) error {
	if err := pageTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("rendering routes page: %w", err)
	}
	return nil
}

// ContentSecurityPolicy is a Content-Security-Policy header value for the
// page rendered with PageData.Nonce = nonce (a fresh random value per
// response): nothing loads but the page's own inline style and script and
// route logos.
func ContentSecurityPolicy(nonce string) string {
	return "default-src 'none'; img-src https: http: data:; " +
		"style-src 'nonce-" + nonce + "'; script-src 'nonce-" + nonce + "'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

var pageTmpl = template.Must(template.New("routes").Funcs(template.FuncMap{
	"search":  searchText,
	"initial": initial,
	"logo":    logoURL,
}).Parse(pageHTML))

// searchText is what the filter box matches against.
func searchText(e Entry) string {
	return strings.ToLower(strings.Join([]string{e.Name, e.Type, e.From, e.Description, e.ConnectCommand}, " "))
}

// initial is the letter shown when a route has no logo.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "?"
	}
	return string(unicode.ToUpper(r))
}

// logoURL lets data:image URLs through html/template's URL filter (an
// <img> cannot run script, and config only accepts http(s) and
// data:image logos); anything else goes through the normal filter.
func logoURL(s string) any {
	if strings.HasPrefix(strings.ToLower(s), "data:image/") {
		return template.URL(s) //nolint:gosec // data:image in <img src> only
	}
	return s
}

const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Routes</title>
<style{{if .Nonce}} nonce="{{.Nonce}}"{{end}}>
:root{--bg:#f6f7f9;--fg:#1d2129;--muted:#5f6673;--card:#fff;--line:#e2e5ea;--accent:#5b3ddc;--code:#f0f1f4;
--http:#1f7a4a;--tcp:#1d5fb4;--udp:#8a4b0f}
@media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e7e9ee;--muted:#9aa1ad;--card:#1e2127;--line:#2e323a;
--accent:#a58cff;--code:#272b33;--http:#5fd39a;--tcp:#7fb0ff;--udp:#f0b070}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;
padding:.9rem 1.5rem;background:var(--card);border-bottom:1px solid var(--line)}
header h1{margin:0;font-size:1.25rem}
.user{color:var(--muted)}
.user strong{color:var(--fg);font-weight:600}
a{color:var(--accent)}
main{max-width:72rem;margin:0 auto;padding:1.25rem 1.5rem 3rem}
.tools{margin:0 0 1rem}
.tools input{width:100%;max-width:28rem;padding:.55rem .75rem;font:inherit;color:inherit;background:var(--card);
border:1px solid var(--line);border-radius:.5rem}
.grid{list-style:none;margin:0;padding:0;display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr))}
.card{display:flex;flex-direction:column;gap:.5rem;padding:1rem;background:var(--card);border:1px solid var(--line);border-radius:.75rem;min-width:0}
.head{display:flex;align-items:center;gap:.6rem}
.head h2{margin:0;font-size:1.05rem;flex:1;overflow-wrap:anywhere}
.logo,.mono{width:2rem;height:2rem;border-radius:.4rem;flex:none}
.mono{display:flex;align-items:center;justify-content:center;background:var(--code);color:var(--muted);font-weight:700}
.badge{font-size:.72rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em;padding:.1rem .45rem;border-radius:1rem;border:1px solid currentColor}
.badge-http{color:var(--http)}.badge-tcp{color:var(--tcp)}.badge-udp{color:var(--udp)}
.desc{margin:0;color:var(--muted)}
.from{margin:0;font-size:.9rem;color:var(--muted);overflow-wrap:anywhere}
.cmd{display:flex;gap:.5rem;align-items:flex-start;margin-top:auto}
.cmd code{flex:1;display:block;padding:.45rem .6rem;background:var(--code);border-radius:.4rem;
font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere;user-select:all}
.copy{font:inherit;font-size:.85rem;padding:.4rem .7rem;border:1px solid var(--line);border-radius:.4rem;background:var(--card);color:inherit;cursor:pointer}
.copy:hover{border-color:var(--accent)}
.empty{padding:2rem;text-align:center;color:var(--muted);background:var(--card);border:1px dashed var(--line);border-radius:.75rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
</style>
</head>
<body>
<header>
<h1>Routes</h1>
<div class="user">{{if .User}}Signed in as <strong id="user">{{.User}}</strong>{{if .SignOutURL}} · <a href="{{.SignOutURL}}">Sign out</a>{{end}}{{else}}Not signed in{{end}}</div>
</header>
<main>
{{if .Entries}}
<div class="tools" id="tools" hidden>
<label class="sr" for="filter">Filter routes</label>
<input id="filter" type="search" placeholder="Filter routes by name, type or address" autocomplete="off">
</div>
<ul class="grid" id="routes">
{{range .Entries}}<li class="card" id="route-{{.ID}}" data-search="{{search .}}">
<div class="head">{{if .LogoURL}}<img class="logo" src="{{logo .LogoURL}}" alt="" data-initial="{{initial .Name}}">{{else}}<span class="mono" aria-hidden="true">{{initial .Name}}</span>{{end}}<h2>{{.Name}}</h2><span class="badge badge-{{.Type}}">{{.Type}}</span></div>
{{if .Description}}<p class="desc">{{.Description}}</p>
{{end}}<p class="from">{{if eq .Type "http"}}<a href="{{.From}}">{{.From}}</a>{{else}}{{.From}}{{end}}</p>
{{if .ConnectCommand}}<div class="cmd"><code>{{.ConnectCommand}}</code><button type="button" class="copy" data-copy="{{.ConnectCommand}}" hidden>Copy</button></div>
{{end}}</li>
{{end}}</ul>
<p class="empty" id="nomatch" hidden>No routes match the filter.</p>
{{else}}
<p class="empty" id="empty">No routes are available to you.{{if not .User}} Sign in to see the routes you may use.{{end}}</p>
{{end}}
</main>
<script{{if .Nonce}} nonce="{{.Nonce}}"{{end}}>
(function () {
  // A logo that fails to load becomes the initial, like a card without one.
  Array.prototype.forEach.call(document.querySelectorAll("img.logo"), function (img) {
    function fail() {
      var s = document.createElement("span");
      s.className = "mono";
      s.setAttribute("aria-hidden", "true");
      s.textContent = img.getAttribute("data-initial");
      img.replaceWith(s);
    }
    if (img.complete && img.naturalWidth === 0) { fail(); } else { img.addEventListener("error", fail); }
  });
  var tools = document.getElementById("tools");
  if (!tools) { return; }
  tools.hidden = false;
  var input = document.getElementById("filter");
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  var nomatch = document.getElementById("nomatch");
  function apply() {
    var q = input.value.trim().toLowerCase(), shown = 0;
    cards.forEach(function (c) {
      var ok = q === "" || c.getAttribute("data-search").indexOf(q) >= 0;
      c.hidden = !ok;
      if (ok) { shown++; }
    });
    nomatch.hidden = shown > 0;
  }
  input.addEventListener("input", function () {
    apply();
    // Keep the filter in the address so a reload or a shared link keeps it.
    try {
      var u = new URL(window.location.href);
      if (input.value) { u.searchParams.set("q", input.value); } else { u.searchParams.delete("q"); }
      history.replaceState(null, "", u.toString());
    } catch (e) { /* the filter still works; only the address is not updated */ }
  });
  var initialQuery = new URLSearchParams(window.location.search).get("q");
  if (initialQuery) {
    input.value = initialQuery;
    apply();
  }
  function fallback(text, button) {
    var ta = document.createElement("textarea"), ok = false;
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    if (!ok) {
      // Leave the command selected so Ctrl+C / Cmd+C copies it.
      var range = document.createRange(), sel = window.getSelection();
      range.selectNodeContents(button.parentNode.querySelector("code"));
      sel.removeAllRanges();
      sel.addRange(range);
    }
    return ok;
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-copy");
      function done(ok) {
        b.textContent = ok ? "Copied" : "Press Ctrl+C";
        setTimeout(function () { b.textContent = "Copy"; }, 1500);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback(text, b)); });
      } else {
        done(fallback(text, b));
      }
    });
  });
})();
</script>
</body>
</html>
`
