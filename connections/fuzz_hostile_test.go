package connections

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
)

// fuzzSeeds are both import formats, the store format and hostile
// variants of each.
func fuzzSeeds() []string {
	seeds := []string{
		desktopSample(true), desktopSample(false),
		`{"version":1,"connections":[{"id":"a","name":"db","destination":"db:5432","listen_addr":"127.0.0.1:5432","tags":["x"],"autostart":true}]}`,
		`{"version":1,"connections":[]}`,
		`{"version":2,"connections":[]}`,
		`{"version":1,"connections":[{"id":"a"},{"id":"a"}]}`,
		`{"records":[{"id":"x","conn":{"name":"n","remoteAddr":"[a\r\nX:1]:7000","listenAddr":"0.0.0.0:1"}}]}`,
		`{"records":[{"conn":{"clientCert":{"cert":"!!","key":"%%"}}}]}`,
		`{"@type":"nope","records":null}`,
		``, `null`, `[]`, `{}`, `{"version":1e309}`, strings.Repeat("[", 10000),
	}
	for _, s := range termtest.Samples {
		b, _ := json.Marshal(s)
		seeds = append(seeds, `{"version":1,"connections":[{"id":`+string(b)+`,"name":`+string(b)+`,"destination":`+string(b)+`}]}`)
	}
	return seeds
}

// FuzzDecodeHostile: import files in either format never panic, and what they
// yield either passes validation or is refused with a FieldError.
func FuzzDecodeHostile(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		list, format, err := Decode(data)
		if err != nil {
			return
		}
		if format != FormatPomeriumDesktop && format != FormatPorthole {
			t.Fatalf("unknown format %q", format)
		}
		for _, c := range list {
			if _, err := Normalize(c); err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("Normalize(%+v) = %v; want a FieldError", c, err)
				}
			}
			_ = Risks(c, "/home/u")
		}
		// Exports are of saved connections, which all have distinct ids.
		seen := map[string]bool{}
		for _, c := range list {
			if c.ID == "" || seen[c.ID] {
				return
			}
			seen[c.ID] = true
		}
		var buf bytes.Buffer
		if err := Export(&buf, list, ExportOptions{}); err == nil {
			if again, _, err := Decode(buf.Bytes()); err != nil || len(again) != len(list) {
				t.Fatalf("export of %d decoded connections decodes to %d, %v", len(list), len(again), err)
			}
		}
	})
}

// FuzzDecodeStore: the connections file round-trips whatever it holds.
func FuzzDecodeStore(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := decodeStore(data)
		if err != nil {
			return
		}
		b, err := encodeStore(list)
		if err != nil {
			t.Fatalf("encodeStore after decodeStore: %v", err)
		}
		again, err := decodeStore(b)
		if err != nil || len(again) != len(list) {
			t.Fatalf("store round trip: %d -> %d, %v", len(list), len(again), err)
		}
		for i := range list {
			if again[i].ID != list[i].ID {
				t.Fatalf("id %q became %q", list[i].ID, again[i].ID)
			}
		}
	})
}

// FuzzPlanImport: whatever routes a portal sends, what an import would
// save is valid (the destination validator ran) or was skipped.
func FuzzPlanImport(f *testing.F) {
	f.Add(`[{"id":"1","name":"db","type":"tcp","from":"tcp+https://db.example.com:5432"}]`)
	f.Add(`[{"id":"1","name":"x","type":"tcp","from":"tcp+https://[a\r\nX:1]:7000"},{"id":"2","type":"udp","from":"udp+https://d:53"}]`)
	for _, s := range termtest.Samples {
		b, _ := json.Marshal(s)
		f.Add(`[{"id":` + string(b) + `,"name":` + string(b) + `,"type":"tcp","from":"tcp+https://p/` + strings.Trim(string(b), `"`) + `:1"}]`)
	}
	f.Fuzz(func(t *testing.T, routesJSON string) {
		var routes []portalclient.Route
		if json.Unmarshal([]byte(routesJSON), &routes) != nil {
			return
		}
		plan, err := PlanImport(nil, PortalImport{PortalURL: "https://portal.example.com", Routes: routes})
		if err != nil {
			return
		}
		for _, c := range plan.Add {
			if err := Validate(c); err != nil {
				t.Fatalf("plan adds invalid %+v: %v", c, err)
			}
		}
	})
}
