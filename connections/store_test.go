package connections

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	return NewStore(filepath.Join(t.TempDir(), "sub", "connections.json"))
}

func TestStorePutListGetDelete(t *testing.T) {
	s := newTestStore(t)
	list, err := s.List()
	if err != nil || len(list) != 0 {
		t.Fatalf("List on a missing file = %v, %v; want empty, nil", list, err)
	}
	b, err := s.Put(Connection{Name: "beta", Destination: "db.example.com:5432", Tags: []string{" prod", "db", "prod", ""}})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(b.ID) != 16 {
		t.Errorf("id %q; want 16 hex digits", b.ID)
	}
	if want := []string{"db", "prod"}; !reflect.DeepEqual(b.Tags, want) {
		t.Errorf("tags %q; want %q", b.Tags, want)
	}
	a, err := s.Put(Connection{Name: "Alpha", Destination: "tcp+https://proxy.example.com:8443/ssh.internal:22", ListenAddr: "127.0.0.1:2222"})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	a2, err := s.Put(Connection{Name: "alpha", Destination: "tcp+https://redis.example.com:6379"})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	list, err = s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if want := []string{"Alpha", "alpha", "beta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("order %q; want %q", names, want)
	}

	got, err := s.Get(a.ID)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("Get = %+v, %v; want %+v", got, err, a)
	}
	a.ListenAddr = ""
	if _, err := s.Put(a); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(a.ID); got.ListenAddr != "" {
		t.Errorf("after replace ListenAddr = %q; want empty", got.ListenAddr)
	}
	if list, _ := s.List(); len(list) != 3 {
		t.Errorf("replace added a connection: %d; want 3", len(list))
	}

	if err := s.Delete(a2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(a2.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v; want ErrNotFound", err)
	}
	if err := s.Delete(a2.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v; want ErrNotFound", err)
	}
}

func TestStoreFileModeAndNoTempFiles(t *testing.T) {
	s := newTestStore(t)
	for i := range 5 {
		if _, err := s.Put(Connection{Name: fmt.Sprint("c", i), Destination: "h:1"}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %o; want 600", m)
	}
	ents, err := os.ReadDir(filepath.Dir(s.Path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "connections.json" && e.Name() != "connections.json.lock" {
			t.Errorf("left behind %s; want only the store and its lock", e.Name())
		}
	}
	b, _ := os.ReadFile(s.Path)
	if !strings.HasPrefix(string(b), "{\n  \"version\": 1,\n  \"connections\": [") {
		t.Errorf("file starts %.40q; want version 1 then connections", b)
	}
}

func TestStoreCorruptFileKept(t *testing.T) {
	cases := map[string]string{
		"not json":      "{nope",
		"empty":         "",
		"no version":    `{"connections":[]}`,
		"newer version": `{"version":9,"connections":[]}`,
		"duplicate ids": `{"version":1,"connections":[{"id":"a","name":"x","destination":"h:1"},{"id":"a","name":"y","destination":"h:1"}]}`,
		"missing id":    `{"version":1,"connections":[{"name":"x","destination":"h:1"}]}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			s := NewStore(filepath.Join(t.TempDir(), "connections.json"))
			if err := os.WriteFile(s.Path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.List()
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("List: %v; want *CorruptError", err)
			}
			if msg := err.Error(); !strings.Contains(msg, s.Path) || !strings.Contains(msg, "fix or move it away") {
				t.Errorf("message %q; want the path and the hint", msg)
			}
			if _, err := s.Put(Connection{Name: "n", Destination: "h:1"}); !errors.As(err, &ce) {
				t.Errorf("Put: %v; want *CorruptError", err)
			}
			if err := s.Delete("a"); !errors.As(err, &ce) {
				t.Errorf("Delete: %v; want *CorruptError", err)
			}
			if b, _ := os.ReadFile(s.Path); string(b) != content {
				t.Errorf("file now %q; want it untouched %q", b, content)
			}
		})
	}
}

func TestStoreConcurrentWriters(t *testing.T) {
	s := newTestStore(t)
	other := NewStore(s.Path) // a second Store on the same file, as the CLI beside the desktop app
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Go(func() {
			_, err := st.Put(Connection{Name: fmt.Sprint("c", i), Destination: "h:1"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 40 {
		t.Errorf("got %d connections; want 40 (a write was lost)", len(list))
	}
}

func TestValidate(t *testing.T) {
	ok := Connection{Name: "n", Destination: "tcp+https://proxy.example.com/db:5432"}
	cases := []struct {
		name      string
		edit      func(*Connection)
		wantField string
	}{
		{"ok", func(*Connection) {}, ""},
		{"host port", func(c *Connection) { c.Destination = "db.example.com:5432" }, ""},
		{"host form", func(c *Connection) { c.Destination = "tcp+https://db.example.com:5432" }, ""},
		{"no name", func(c *Connection) { c.Name = "  " }, FieldName},
		{"no destination", func(c *Connection) { c.Destination = "" }, FieldDestination},
		{"bad destination", func(c *Connection) { c.Destination = "no port here" }, FieldDestination},
		{"bad scheme", func(c *Connection) { c.Destination = "ftp://x:21" }, FieldDestination},
		{"listen ok", func(c *Connection) { c.ListenAddr = "127.0.0.1:5432" }, ""},
		{"listen any host", func(c *Connection) { c.ListenAddr = ":0" }, ""},
		{"listen no port", func(c *Connection) { c.ListenAddr = "127.0.0.1" }, FieldListenAddr},
		{"listen port word", func(c *Connection) { c.ListenAddr = "localhost:pg" }, FieldListenAddr},
		{"listen port big", func(c *Connection) { c.ListenAddr = "localhost:70000" }, FieldListenAddr},
		{"pomerium url", func(c *Connection) { c.PomeriumURL = "https://proxy.example.com:8443" }, ""},
		{"pomerium url bad", func(c *Connection) { c.PomeriumURL = "proxy.example.com" }, FieldPomeriumURL},
		{"cert without key", func(c *Connection) { c.TLS.ClientCertFile = "c.pem" }, FieldTLS},
		{"key without cert", func(c *Connection) { c.TLS.ClientKey = "-----BEGIN" }, FieldTLS},
		{"ca twice", func(c *Connection) { c.TLS.CAFile, c.TLS.CACert = "ca.pem", "-----BEGIN" }, FieldTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := Validate(c)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v; want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate: %v; want a *FieldError for %s", err, tc.wantField)
			}
			if fe.Field != tc.wantField || !strings.HasPrefix(err.Error(), tc.wantField+": ") {
				t.Errorf("got field %q (%v); want %q", fe.Field, err, tc.wantField)
			}
		})
	}
}

func TestStoreModify(t *testing.T) {
	t.Run("error leaves the file", func(t *testing.T) {
		s := newTestStore(t)
		if _, err := s.Put(Connection{Name: "a", Destination: "h:1"}); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(s.Path)
		boom := errors.New("boom")
		err := s.Modify(func(list []Connection) ([]Connection, error) {
			list[0].Name = "changed"
			return nil, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Modify: %v; want boom", err)
		}
		if after, _ := os.ReadFile(s.Path); string(after) != string(before) {
			t.Errorf("file changed after a failed Modify")
		}
		if list, _ := s.List(); list[0].Name != "a" {
			t.Errorf("name %q; want a (fn must get a copy)", list[0].Name)
		}
	})
	t.Run("a bad hand edit does not block other writes", func(t *testing.T) {
		s := newTestStore(t)
		if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		bad := `{"version":1,"connections":[{"id":"x","name":"","destination":"bad"}]}`
		if err := os.WriteFile(s.Path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(Connection{Name: "b", Destination: "h:1"}); err != nil {
			t.Fatalf("Put beside a bad entry: %v", err)
		}
		if list, _ := s.List(); len(list) != 2 {
			t.Errorf("got %d connections; want the bad one kept and the new one", len(list))
		}
		if err := s.Delete("x"); err != nil {
			t.Errorf("deleting the bad entry: %v", err)
		}
	})
	t.Run("invalid result rejected", func(t *testing.T) {
		s := newTestStore(t)
		err := s.Modify(func(list []Connection) ([]Connection, error) {
			return append(list, Connection{Name: "n", Destination: "nope"}), nil
		})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != FieldDestination {
			t.Errorf("Modify with a bad destination: %v; want a destination FieldError", err)
		}
		if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("store written despite the error: %v", err)
		}
	})
	t.Run("symlinked store stays a symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "real.json")
		link := filepath.Join(dir, "connections.json")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		s := NewStore(link)
		if _, err := s.Put(Connection{Name: "a", Destination: "h:1"}); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the store link was replaced: %v", err)
		}
		if list, _ := NewStore(target).List(); len(list) != 1 {
			t.Errorf("target holds %d connections; want 1", len(list))
		}
	})
	t.Run("no path", func(t *testing.T) {
		s := NewStore("")
		if _, err := s.List(); err == nil || !strings.Contains(err.Error(), EnvPath) {
			t.Errorf("List with no path: %v; want a hint naming %s", err, EnvPath)
		}
	})
}

func TestFind(t *testing.T) {
	list := []Connection{{ID: "1", Name: "a"}, {ID: "2", Name: "b"}, {ID: "3", Name: "b"}, {ID: "b2", Name: "1"}}
	cases := []struct {
		ref, wantID string
		wantErr     error
	}{
		{"1", "1", nil}, // ids win over names
		{"a", "1", nil},
		{"b2", "b2", nil},
		{"zzz", "", ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			c, err := Find(list, tc.ref)
			if !errors.Is(err, tc.wantErr) || c.ID != tc.wantID {
				t.Errorf("Find(%q) = %q, %v; want %q, %v", tc.ref, c.ID, err, tc.wantID, tc.wantErr)
			}
		})
	}
	_, err := Find(list, "b")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || !reflect.DeepEqual(amb.IDs, []string{"2", "3"}) {
		t.Errorf("Find(b) = %v; want AmbiguousError with ids 2, 3", err)
	}
	if got := AllTags([]Connection{{Tags: []string{"x", "a"}}, {Tags: []string{"a"}}}); !reflect.DeepEqual(got, []string{"a", "x"}) {
		t.Errorf("AllTags = %q; want a, x", got)
	}
	if got := WithTag([]Connection{{ID: "t", Tags: []string{"a"}}, {ID: "u"}}, ""); len(got) != 1 || got[0].ID != "u" {
		t.Errorf("WithTag(\"\") = %+v; want the untagged one", got)
	}
}
