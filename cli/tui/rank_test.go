package tui

import (
	"strings"
	"testing"
)

func TestRankItems(t *testing.T) {
	all := []Item{
		{Name: "admin-echo", From: "tcp+https://p/admin:1"},
		{Name: "web", From: "https://web.p", Description: "the db dashboard"},
		{Name: "mydb-replica", From: "tcp+https://p/db2:5432"},
		{Name: "db-primary", From: "tcp+https://p/db1:5432"},
		{Name: "Db", From: "tcp+https://p/db:5432"},
		{Name: "dxb", From: "tcp+https://p/x:1"},
		{Name: "echo", From: "tcp+https://p/echo:7"},
	}
	tests := []struct {
		q    string
		want string
	}{
		{"db", "Db db-primary mydb-replica dxb web"},
		{"echo", "echo admin-echo"},
		{"ECH", "echo admin-echo mydb-replica"},
		{"5432", "Db db-primary mydb-replica"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			var names []string
			for _, it := range rankItems(all, tt.q) {
				names = append(names, it.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("rank %q = %q; want %q (exact, prefix, contains, fuzzy name, other fields)", tt.q, got, tt.want)
			}
		})
	}
}
