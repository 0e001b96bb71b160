package connections

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestDuplicateNamesRefused(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "c.json"))
	db, err := s.Put(Connection{Name: "db", Destination: "tcp+https://p.example.com/db:5432"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(Connection{Name: "db-2", Destination: "tcp+https://p.example.com/db2:5432"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() error
	}{
		{"add", func() error {
			_, err := s.Put(Connection{Name: "db", Destination: "tcp+https://p.example.com/other:1"})
			return err
		}},
		{"rename onto another", func() error {
			list, _ := s.List()
			c := list[1]
			c.Name = "db"
			_, err := s.Put(c)
			return err
		}},
		{"import batch", func() error {
			return s.Modify(func(list []Connection) ([]Connection, error) {
				return append(list, Connection{Name: "db", Destination: "tcp+https://q.example.com/db:5432"}), nil
			})
		}},
		{"import two alike", func() error {
			return s.Modify(func(list []Connection) ([]Connection, error) {
				return append(list, Connection{Name: "new", Destination: "a.example.com:1"}, Connection{Name: "new", Destination: "b.example.com:1"}), nil
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			var dup *DuplicateNameError
			if !errors.As(err, &dup) {
				t.Fatalf("err = %v; want a DuplicateNameError", err)
			}
			if dup.Suggest == "" || dup.Suggest == dup.Name || tt.name == "add" && dup.Suggest != "db-3" {
				t.Errorf("suggestion %q for %q; want a free name (db-3 when db-2 is taken)", dup.Suggest, dup.Name)
			}
			if list, _ := s.List(); len(list) != 2 {
				t.Errorf("%d connections after a refused write; want 2 (nothing written)", len(list))
			}
		})
	}
	// Editing a connection without renaming it still works.
	db.ListenAddr = "127.0.0.1:5432"
	if _, err := s.Put(db); err != nil {
		t.Errorf("edit keeping the name: %v", err)
	}
}
