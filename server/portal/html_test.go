package portal

import (
	"bytes"
	"strings"
	"testing"
)

func render(t *testing.T, d PageData) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, d); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return buf.String()
}

func TestWriteHTML(t *testing.T) {
	routes := mustRoutes(t, sampleConfig)
	entries := Entries(routes, dev)
	entries[1].Description = `<script>alert("x")</script> & more`
	entries[0].Name = `pg<b>`
	page := render(t, PageData{User: "dev@example.com", SignOutURL: "/.pomerium/sign_out", Entries: entries})

	mustContain := []string{
		"<title>Routes</title>",
		`<strong id="user">dev@example.com</strong>`,
		`<a href="/.pomerium/sign_out">Sign out</a>`,
		`<input id="filter" type="search"`,
		`<h2>pg&lt;b&gt;</h2>`,
		`<h2>verify</h2>`, `<h2>echo</h2>`, `<h2>admin-echo</h2>`, `<h2>dns</h2>`, `<h2>public</h2>`,
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`,
		`<span class="badge badge-tcp">tcp</span>`,
		`<span class="badge badge-udp">udp</span>`,
		`<span class="badge badge-http">http</span>`,
		`<a href="https://verify.example.com">https://verify.example.com</a>`,
		`<code>pomerium-cli tcp postgres.example.com:5432</code>`,
		`<code>pomerium-cli udp dns.example.com:53</code>`,
		`data-copy="pomerium-cli tcp postgres.example.com:5432"`,
		`<img class="logo" src="https://example.com/logo.png" alt="" data-initial="P">`,
		`navigator.clipboard`,
		`document.execCommand("copy")`,
	}
	for _, s := range mustContain {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	mustNotContain := []string{
		`<script>alert`,
		`<b>`,
		`<link`,       // no external stylesheets
		`<script src`, // no external scripts
		`@import`,
		`url(`,
		`id="empty"`,
	}
	for _, s := range mustNotContain {
		if strings.Contains(page, s) {
			t.Errorf("page contains %q; want it absent", s)
		}
	}
	// http routes have no command block; tcp/udp ones do.
	if got, want := strings.Count(page, `<div class="cmd">`), 4; got != want {
		t.Errorf("command blocks = %d; want %d (postgres, echo, admin-echo, dns)", got, want)
	}
	if got, want := strings.Count(page, `<li class="card"`), len(entries); got != want {
		t.Errorf("cards = %d; want %d", got, want)
	}
	// The enhancements start hidden so that, without JavaScript, the page
	// shows no dead controls.
	if !strings.Contains(page, `<div class="tools" id="tools" hidden>`) || !strings.Contains(page, `class="copy" data-copy="pomerium-cli tcp postgres.example.com:5432" hidden>`) {
		t.Errorf("filter box or copy buttons not hidden until the script runs")
	}
}

func TestWriteHTMLEmptyAndAnonymous(t *testing.T) {
	tests := []struct {
		name     string
		data     PageData
		want     []string
		wantNone []string
	}{
		{"signed in, no routes", PageData{User: "guest@example.com", SignOutURL: "/.pomerium/sign_out"},
			[]string{`id="empty"`, "No routes are available to you.", "guest@example.com"},
			[]string{`id="routes"`, `id="filter"`, "Sign in to see"}},
		{"anonymous", PageData{},
			[]string{"Not signed in", "Sign in to see the routes you may use."},
			[]string{"Sign out", `id="user"`}},
		{"anonymous with public routes", PageData{Entries: []Entry{{ID: "x", Name: "public", Type: "http", From: "https://public.example.com"}}},
			[]string{"Not signed in", "<h2>public</h2>"},
			[]string{`id="empty"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.data)
			for _, s := range tt.want {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.wantNone {
				if strings.Contains(page, s) {
					t.Errorf("page contains %q; want it absent", s)
				}
			}
		})
	}
}

func TestWriteHTMLURLs(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		want  string
	}{
		{"data image logo allowed", Entry{Name: "a", Type: "http", From: "https://a", LogoURL: "data:image/png;base64,iVBORw0KGgo="}, `src="data:image/png;base64,iVBORw0KGgo="`},
		{"javascript logo neutralised", Entry{Name: "a", Type: "http", From: "https://a", LogoURL: "javascript:alert(1)"}, `src="#ZgotmplZ"`},
		{"javascript from neutralised", Entry{Name: "a", Type: "http", From: "javascript:alert(1)"}, `href="#ZgotmplZ"`},
		{"tcp from is text, not a link", Entry{Name: "a", Type: "tcp", From: "tcp+https://db:5432", ConnectCommand: "pomerium-cli tcp db:5432"}, `<p class="from">tcp&#43;https://db:5432</p>`},
		{"no logo shows the initial", Entry{Name: "échos", Type: "http", From: "https://a"}, `<span class="mono" aria-hidden="true">É</span>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, PageData{User: "u@example.com", Entries: []Entry{tt.entry}})
			if !strings.Contains(page, tt.want) {
				t.Errorf("page lacks %q", tt.want)
			}
		})
	}
}

func TestWriteHTMLNonce(t *testing.T) {
	page := render(t, PageData{Nonce: "abc123"})
	for _, s := range []string{`<style nonce="abc123">`, `<script nonce="abc123">`} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	page = render(t, PageData{})
	if strings.Contains(page, "nonce=") {
		t.Errorf("page has a nonce attribute without a nonce")
	}
}
