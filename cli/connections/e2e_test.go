package connections_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
)

func listJSON(t *testing.T, e *env, extra ...string) []saved.Connection {
	t.Helper()
	out, _ := e.must(append([]string{"list", "-o", "json"}, extra...)...)
	var list []saved.Connection
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list -o json is not JSON: %v\n%s", err, out)
	}
	return list
}

func byName(t *testing.T, list []saved.Connection, name string) saved.Connection {
	t.Helper()
	for _, c := range list {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no connection named %q in %+v", name, list)
	return saved.Connection{}
}

func TestCommandsRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	work := t.TempDir()
	t.Chdir(work)
	if err := os.WriteFile("ca.pem", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	id, _ := e.must("add", "--name", "db", "--destination", "tcp+https://proxy.example.com/db.internal:5432",
		"--listen", "127.0.0.1:5432", "--tag", "prod", "--tag", "db,prod")
	id = strings.TrimSpace(id)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("add printed %q; want a 16-hex-digit id", id)
	}
	e.must("add", "--name", "Cache", "--destination", "redis.example.com:6379", "--pomerium-url", "https://proxy.example.com:8443",
		"--tag", "staging", "--autostart", "--alternate-ca-path", "ca.pem")

	t.Run("add validation names the flag", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--name", "x", "--destination", "no-port"}, "--destination: "},
			{[]string{"--name", "x", "--destination", "h:1", "--listen", "localhost"}, "--listen: "},
			{[]string{"--destination", "h:1"}, "--name: "},
			{[]string{"--name", "x", "--destination", "h:1", "--pomerium-url", "ftp://p"}, "--pomerium-url: "},
		} {
			_, _, err := e.run(append([]string{"add"}, tc.args...)...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("add %q: got %v; want an error starting %q", tc.args, err, tc.want)
			}
		}
	})

	t.Run("list table", func(t *testing.T) {
		out, _ := e.must("list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME DESTINATION LISTEN TAGS ID" {
			t.Fatalf("table:\n%s\nwant a header and 2 rows", out)
		}
		if f := strings.Fields(lines[1]); f[0] != "Cache" || f[2] != "auto" || f[3] != "staging" {
			t.Errorf("row 1 %q; want Cache ... auto staging", f)
		}
		if f := strings.Fields(lines[2]); !slices.Equal(f, []string{"db", "tcp+https://proxy.example.com/db.internal:5432", "127.0.0.1:5432", "db,prod", id}) {
			t.Errorf("row 2 %q; want the db connection", f)
		}
		out, _ = e.must("list", "--tag", "prod")
		if !strings.Contains(out, "db") || strings.Contains(out, "Cache") {
			t.Errorf("list --tag prod:\n%s\nwant only db", out)
		}
	})

	t.Run("relative files saved absolute", func(t *testing.T) {
		c := byName(t, listJSON(t, e), "Cache")
		if want := filepath.Join(work, "ca.pem"); c.TLS.CAFile != want || !c.Autostart || c.PomeriumURL != "https://proxy.example.com:8443" {
			t.Errorf("Cache = %+v; want CA file %s, autostart and the Pomerium URL", c, want)
		}
	})

	t.Run("edit changes only the flags given", func(t *testing.T) {
		before := byName(t, listJSON(t, e), "db")
		e.must("edit", "db", "--listen", "127.0.0.1:15432", "--add-tag", "eu", "--remove-tag", "db")
		after := byName(t, listJSON(t, e), "db")
		want := before
		want.ListenAddr, want.Tags = "127.0.0.1:15432", []string{"eu", "prod"}
		if !jsonEqual(after, want) {
			t.Errorf("after edit %+v; want %+v", after, want)
		}
		e.must("edit", id, "--tag", "", "--autostart")
		if c := byName(t, listJSON(t, e), "db"); len(c.Tags) != 0 || !c.Autostart {
			t.Errorf("after --tag '' --autostart: %+v; want no tags, autostart", c)
		}
		if _, _, err := e.run("edit", "db"); !cmdutil.IsUsageError(err) {
			t.Errorf("edit without flags: %v; want a usage error", err)
		}
		if _, _, err := e.run("edit", "nope", "--listen", ":1"); !errors.Is(err, saved.ErrNotFound) {
			t.Errorf("edit nope: %v; want not found", err)
		}
		if _, _, err := e.run("edit", "db", "--destination", "bad"); err == nil || !strings.HasPrefix(err.Error(), "--destination: ") {
			t.Errorf("edit bad destination: %v; want --destination: ...", err)
		}
	})

	var exported string
	t.Run("export", func(t *testing.T) {
		exported = filepath.Join(work, "backup.json")
		e.must("export", exported)
		st, err := os.Stat(exported)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("export file: %v, %v; want mode 600", st, err)
		}
		out, _ := e.must("export", "-", "--format", "pomerium-desktop", "--tag", "staging")
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || m["@type"] != "type.googleapis.com/pomerium.cli.Records" {
			t.Fatalf("desktop export: %v\n%s", err, out)
		}
		if n := len(m["records"].([]any)); n != 1 {
			t.Errorf("desktop export --tag staging has %d records; want 1", n)
		}
	})

	t.Run("rm ambiguous name lists ids", func(t *testing.T) {
		// add refuses a second "db", suggesting a free name.
		_, _, err := e.run("add", "--name", "db", "--destination", "other.example.com:5432")
		var dup *saved.DuplicateNameError
		if !errors.As(err, &dup) || !strings.Contains(err.Error(), `e.g. "db-2"`) || len(listJSON(t, e)) != 2 {
			t.Fatalf("add a second db: %v; want it refused with a rename suggestion, nothing written", err)
		}
		// A hand-edited file (or another tool) can still hold two: rm
		// must not guess.
		var doc map[string]any
		b, _ := os.ReadFile(e.store)
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		conns := doc["connections"].([]any)
		var dbEntry map[string]any
		for _, c := range conns {
			if m := c.(map[string]any); m["name"] == "db" {
				dbEntry = m
			}
		}
		other := "00000000000000aa"
		cp := map[string]any{}
		for k, v := range dbEntry {
			cp[k] = v
		}
		cp["id"], cp["destination"] = other, "other.example.com:5432"
		doc["connections"] = append(conns, cp)
		b, _ = json.Marshal(doc)
		if err := os.WriteFile(e.store, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.run("rm", "db")
		var amb *saved.AmbiguousError
		if !errors.As(err, &amb) || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), other) {
			t.Fatalf("rm db: %v; want an ambiguity error listing %s and %s", err, id, other)
		}
		if len(listJSON(t, e)) != 3 {
			t.Errorf("a failed rm removed something")
		}
		_, errOut := e.must("rm", other)
		if !strings.Contains(errOut, "Removed db ("+other+")") {
			t.Errorf("rm stderr %q; want Removed db (%s)", errOut, other)
		}
	})

	t.Run("import round trip without duplicates", func(t *testing.T) {
		before := listJSON(t, e)
		e.must("rm", "db", "Cache")
		if n := len(listJSON(t, e)); n != 0 {
			t.Fatalf("after rm: %d connections; want 0", n)
		}
		// Autostart is a risk an import calls out: without a terminal to
		// ask, --yes is needed; the second import sets nothing new.
		if _, errOut, err := e.run("import", exported); !errors.Is(err, cmdutil.ErrNeedsYes) || !strings.Contains(errOut, "starts on its own") {
			t.Fatalf("import without --yes: %v, %q; want ErrNeedsYes and the autostart called out", err, errOut)
		}
		if n := len(listJSON(t, e)); n != 0 {
			t.Fatalf("a refused import saved %d connections", n)
		}
		_, errOut := e.must("import", exported, "--yes")
		if !strings.Contains(errOut, "2 added") {
			t.Errorf("import: %q; want 2 added", errOut)
		}
		_, errOut = e.must("import", exported)
		if !strings.Contains(errOut, "0 added, 0 updated, 2 unchanged") {
			t.Errorf("second import: %q; want all unchanged", errOut)
		}
		if after := listJSON(t, e); !jsonEqual(after, before) {
			t.Errorf("after the round trip\n got %+v\nwant %+v", after, before)
		}
	})

	t.Run("import Pomerium Desktop export from stdin", func(t *testing.T) {
		b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
		e.in = `{"@type":"type.googleapis.com/pomerium.cli.Records","records":[
			{"id":"9b1e0f9e-1111-4c8e-9d41-3f0a4c1b2d3e","tags":["desktop"],
			 "conn":{"name":"ssh","remoteAddr":"tcp+https://ssh.example.com:22","listenAddr":"127.0.0.1:2222",
			         "caCert":"` + b64("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n") + `","autostart":true}}]}`
		stdin := e.in
		_, errOut := e.must("import", "-", "--tag", "moved", "--yes")
		if !strings.Contains(errOut, "pomerium-desktop format") || !strings.Contains(errOut, "1 added") {
			t.Errorf("import -: %q; want 1 added from the Pomerium Desktop format", errOut)
		}
		c := byName(t, listJSON(t, e), "ssh")
		if c.ID != "9b1e0f9e-1111-4c8e-9d41-3f0a4c1b2d3e" || !slices.Equal(c.Tags, []string{"desktop", "moved"}) ||
			c.ListenAddr != "127.0.0.1:2222" || !c.Autostart || !strings.Contains(c.TLS.CACert, "BEGIN CERTIFICATE") {
			t.Errorf("imported %+v; want the record's id, tags desktop+moved, listen, autostart and CA", c)
		}
		e.in = stdin
		e.must("import", "-", "--tag", "moved", "--yes")
		if n := len(listJSON(t, e)); n != 3 {
			t.Errorf("after importing twice: %d connections; want 3", n)
		}
	})

	t.Run("corrupt store reported and kept", func(t *testing.T) {
		if err := os.WriteFile(e.store, []byte(`{"version":1,"connections":[`), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"list"}, {"add", "--name", "n", "--destination", "h:1"}, {"import", exported}} {
			_, _, err := e.run(args...)
			if err == nil || !strings.Contains(err.Error(), e.store) || !strings.Contains(err.Error(), "fix or move it away") {
				t.Errorf("%q on a corrupt store: %v; want the path and the hint", args, err)
			}
		}
		if b, _ := os.ReadFile(e.store); string(b) != `{"version":1,"connections":[` {
			t.Errorf("corrupt store was rewritten: %q", b)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func echoFrom(ds *testutil.DevServer) string { return "tcp+https://" + ds.Addr + "/echo.internal:7000" }

// TestE2EPortalImport signs in to a real dev server, imports its tcp
// routes with tags, then re-imports after the user changed things.
func TestE2EPortalImport(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	portal := "https://" + ds.Addr

	_, errOut := e.must("import", "--portal", portal, "--tag", "dev", "--yes", "--alternate-ca-path", ds.CAFile)
	if !regexp.MustCompile(`(?m)^  add +echo +` + regexp.QuoteMeta(echoFrom(ds)) + `  \[dev\] *$`).MatchString(errOut) {
		t.Errorf("preview:\n%s\nwant an add line for echo with tag dev", errOut)
	}
	list := listJSON(t, e)
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
		if c.Source == nil || c.Source.PortalURL != portal || c.Source.RouteID == "" || !slices.Equal(c.Tags, []string{"dev"}) || c.TLS.CAFile != ds.CAFile {
			t.Errorf("imported %+v; want source %s, tag dev and the CA file", c, portal)
		}
	}
	if !slices.Contains(names, "echo") || !slices.Contains(names, "admin-echo") {
		t.Fatalf("imported %q; want echo and admin-echo (tcp routes)", names)
	}
	echo := byName(t, list, "echo")
	if echo.Destination != echoFrom(ds) {
		t.Errorf("echo destination %q; want %q", echo.Destination, echoFrom(ds))
	}

	// The user picks a port and start-at-launch, and adds a tag; a route
	// the portal has dropped, a hand-made connection and one from another
	// portal are in the store too.
	e.must("edit", "echo", "--listen", "127.0.0.1:17000", "--autostart", "--add-tag", "mine")
	st := saved.NewStore(e.store)
	gone, err := st.Put(saved.Connection{Name: "old-route", Destination: "tcp+https://" + ds.Addr + "/old.internal:1",
		Source: &saved.Source{PortalURL: portal + "/", RouteID: "0123456789abcdef"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.Put(saved.Connection{Name: "elsewhere", Destination: "h:1", Source: &saved.Source{PortalURL: "https://other.example.com", RouteID: "0123456789abcdef"}})
	if err != nil {
		t.Fatal(err)
	}
	hand, err := st.Put(saved.Connection{Name: "by-hand", Destination: echoFrom(ds)})
	if err != nil {
		t.Fatal(err)
	}

	_, errOut = e.must("import", "--portal", portal, "--tag", "team", "--yes", "--alternate-ca-path", ds.CAFile)
	if !regexp.MustCompile(`(?m)^  would remove +old-route +.*pass --remove\)$`).MatchString(errOut) {
		t.Errorf("re-import preview:\n%s\nwant old-route listed as would remove", errOut)
	}
	if !regexp.MustCompile(`(?m)^  update +echo +tags \[dev,mine\] -> \[dev,mine,team\] *$`).MatchString(errOut) {
		t.Errorf("re-import preview:\n%s\nwant echo's tag change", errOut)
	}
	list = listJSON(t, e)
	got := byName(t, list, "echo")
	if got.ID != echo.ID || got.ListenAddr != "127.0.0.1:17000" || !got.Autostart || !slices.Equal(got.Tags, []string{"dev", "mine", "team"}) {
		t.Errorf("echo after re-import %+v; want same id, listen and autostart kept, tags dev,mine,team", got)
	}
	byName(t, list, "old-route") // kept without --remove
	if len(list) != 5 {
		t.Errorf("after re-import %d connections; want 5 (nothing duplicated)", len(list))
	}

	_, errOut = e.must("import", "--portal", portal, "--tag", "team", "--remove", "--yes", "--alternate-ca-path", ds.CAFile)
	if !strings.Contains(errOut, "1 removed") {
		t.Errorf("import --remove: %q; want 1 removed", errOut)
	}
	list = listJSON(t, e)
	for _, c := range list {
		if c.ID == gone.ID {
			t.Errorf("old-route still saved after --remove")
		}
	}
	for _, keep := range []saved.Connection{other, hand} {
		if c := byName(t, list, keep.Name); !jsonEqual(c, keep) {
			t.Errorf("%s changed: %+v; want %+v", keep.Name, c, keep)
		}
	}
	// Nothing left to do: a dry run says so and writes nothing.
	before, _ := os.ReadFile(e.store)
	_, errOut = e.must("import", "--portal", portal, "--tag", "team", "--dry-run", "--alternate-ca-path", ds.CAFile)
	if strings.Contains(errOut, "  add ") || strings.Contains(errOut, "  update ") {
		t.Errorf("third import plan:\n%s\nwant only unchanged", errOut)
	}
	if after, _ := os.ReadFile(e.store); string(after) != string(before) {
		t.Errorf("--dry-run changed the store")
	}
}

// TestE2EConnect carries bytes through a saved connection to the dev
// server's echo route.
func TestE2EConnect(t *testing.T) {
	ds := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	e := newEnv(t, ds)
	e.must("add", "--name", "echo", "--destination", echoFrom(ds), "--alternate-ca-path", ds.CAFile)

	errOut, stop := e.start("connect", "echo")
	addr := waitMatch(t, "connect", errOut.String, regexp.MustCompile(`echo: listening on (\S+)`))[1]
	for i := range 2 { // the second connection reuses the cached token
		c, err := net.DialTimeout("tcp", addr, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
		msg := []byte(strings.Repeat("ping ", 1000))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
			t.Fatalf("connection %d: echoed %d bytes, %v; want the %d sent", i, len(got), err, len(msg))
		}
		_ = c.Close()
	}
	waitMatch(t, "connect", errOut.String, regexp.MustCompile(`echo: \[#\d+\] closed: sent 4\.9 KiB, received 4\.9 KiB`))
	if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("connect ended with %v; want nil or context.Canceled", err)
	}

	t.Run("unknown connection", func(t *testing.T) {
		if _, _, err := e.run("connect", "nope"); !errors.Is(err, saved.ErrNotFound) {
			t.Errorf("connect nope: %v; want not found", err)
		}
	})
}
