package tui

import (
	"reflect"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/connections"
)

var savedStub = connections.Connection{Name: "saved"}

var rankRows = []Item{
	{Name: "admin-echo", From: "tcp+https://p/admin:1"},
	{Name: "web", From: "https://web.p", Description: "the db dashboard"},
	{Name: "mydb-replica", From: "tcp+https://p/db2:5432"},
	{Name: "db-primary", From: "tcp+https://p/db1:5432"},
	{Name: "Db", From: "tcp+https://p/db:5432"},
	{Name: "dxb", From: "tcp+https://p/x:1"},
	{Name: "echo", From: "tcp+https://p/echo:7"},
	{Name: "grafana", From: "https://grafana.p", Description: "dashboards"},
	{Name: "saved", From: "tcp+https://p/s:1", Tags: []string{"prod", "eu"}, Saved: &savedStub, ListenAddr: "127.0.0.1:15432"},
	{Name: "İstanbul", From: "tcp+https://p/ist:1"},
	{Name: "Ærø", From: "tcp+https://p/aero:1"},
}

func TestRankItems(t *testing.T) {
	tests := []struct {
		q    string
		want string
	}{
		// exact, then prefix (portal order), then contains, then fuzzy
		// name, then other fields (from before description)
		{"db", "Db db-primary mydb-replica dxb web"},
		{"echo", "echo admin-echo"},
		{"ECH", "echo admin-echo"},
		{"5432", "mydb-replica db-primary Db saved"}, // from values, then a listen address
		{"dash", "web grafana"},
		{"grf", "grafana"},
		{"prod", "saved"},
		{"15432", "saved"},
		{"ærø", "Ærø"},
		{"istanbul", ""}, // İ folds to no ASCII i under simple folding
		{"stanbul", "İstanbul"},
		{"zzz", ""},
		// prefix; contains in portal order; from (Ærø's /aero) before description (web's)
		{"a", "admin-echo mydb-replica db-primary grafana saved İstanbul Ærø web"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			items, _ := rankItems(rankRows, tt.q)
			if got := strings.Join(names(items), " "); got != tt.want {
				t.Errorf("rank %q = %q; want %q (name prefix, name, fuzzy name, other fields)", tt.q, got, tt.want)
			}
		})
	}
}

func TestRankHits(t *testing.T) {
	tests := []struct {
		q     string
		name  string
		tier  int
		f     field
		wantF []int // byte offsets in field f
	}{
		{"db", "db-primary", tierPrefix, fName, []int{0, 1}},
		{"DB", "mydb-replica", tierContains, fName, []int{2, 3}},
		{"grf", "grafana", tierFuzzy, fName, []int{0, 1, 3}},
		{"dash", "web", tierOther, fDesc, []int{7, 8, 9, 10}},
		{"ærø", "Ærø", tierExact, fName, []int{0, 2, 3}}, // Æ is two bytes
		{"eu", "saved", tierOther, fTags, []int{6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			items, ms := rankItems(rankRows, tt.q)
			for i, it := range items {
				if it.Name != tt.name {
					continue
				}
				m := ms[i]
				if m.tier != tt.tier || !reflect.DeepEqual(m.hits[tt.f], tt.wantF) {
					t.Errorf("%q on %s: tier %d hits %v; want tier %d hits %v", tt.q, tt.name, m.tier, m.hits[tt.f], tt.tier, tt.wantF)
				}
				return
			}
			t.Errorf("%q: %s not matched (got %v)", tt.q, tt.name, names(items))
		})
	}
}
