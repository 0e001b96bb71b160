package connections

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDesktopRoundTrip: a Pomerium Desktop export goes through import
// and export unchanged where it matters: a UDP record stays UDP, every
// record says its protocol, and what we cannot honour
// (clientCertFromStore, record.source, unknown newer keys) is kept and
// written back, and reported on import.
func TestDesktopRoundTrip(t *testing.T) {
	in := `{"@type": "type.googleapis.com/pomerium.cli.Records", "records": [
  {"id": "dns", "tags": ["net"], "source": "https://portal.example.com",
   "conn": {"name": "DNS", "protocol": "PROTOCOL_UDP", "remoteAddr": "udp+https://dns.example.com:53",
            "pomeriumUrl": "https://portal.example.com", "listenAddr": "127.0.0.1:5353"}},
  {"id": "db",
   "conn": {"name": "DB", "protocol": 1, "remoteAddr": "tcp+https://db.example.com:5432",
            "clientCertFromStore": {"issuerFilter": "CN=Corp CA"}, "futureKey": [1, 2]}},
  {"id": "old", "conn": {"name": "Old", "remoteAddr": "old.example.com:22"}}
]}`
	list, _, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(filepath.Join(t.TempDir(), "c.json"))
	res, err := s.Import(list)
	if err != nil {
		t.Fatal(err)
	}
	warn := strings.Join(res.Warnings, "\n")
	for _, f := range []string{"record.source", "clientCertFromStore", "futureKey"} {
		if !strings.Contains(warn, f) {
			t.Errorf("import warnings %q; want %s reported", warn, f)
		}
	}
	dns, err := s.Get("dns")
	if err != nil || !dns.UDP() {
		t.Fatalf("dns after import: %+v, %v; want a udp connection", dns, err)
	}
	saved, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Export(&out, saved, ExportOptions{Format: FormatPomeriumDesktop}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []map[string]json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]json.RawMessage{}
	for _, r := range doc.Records {
		var id string
		json.Unmarshal(r["id"], &id)
		byID[id] = r
	}
	conn := func(id string) map[string]json.RawMessage {
		var c map[string]json.RawMessage
		json.Unmarshal(byID[id]["conn"], &c)
		return c
	}
	for id, want := range map[string]string{"dns": `"PROTOCOL_UDP"`, "db": `"PROTOCOL_TCP"`, "old": `"PROTOCOL_TCP"`} {
		if got := string(conn(id)["protocol"]); got != want {
			t.Errorf("exported %s protocol %s; want %s", id, got, want)
		}
	}
	if got := string(byID["dns"]["source"]); got != `"https://portal.example.com"` {
		t.Errorf("exported dns record.source %s; want it kept", got)
	}
	if got := string(conn("db")["clientCertFromStore"]); !strings.Contains(got, "CN=Corp CA") {
		t.Errorf("exported db clientCertFromStore %s; want it kept", got)
	}
	var fk bytes.Buffer
	json.Compact(&fk, conn("db")["futureKey"])
	if got := fk.String(); got != "[1,2]" {
		t.Errorf("exported db futureKey %s; want it kept", got)
	}
	// And back again: the same connections.
	again, _, err := Decode(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	res, err = s.ImportPlan(again)
	if err != nil || res.Unchanged != 3 || res.Added+res.Updated != 0 {
		t.Errorf("re-import of the export: %+v, %v; want 3 unchanged", res, err)
	}
	// Our own format keeps them too.
	out.Reset()
	if err := Export(&out, saved, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	ours, _, err := Decode(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ours {
		if c.ID == "db" && len(c.Desktop.Fields()) != 2 || c.ID == "dns" && !c.UDP() {
			t.Errorf("own-format round trip lost something: %+v", c)
		}
	}
}

func TestDesktopProtocolValues(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		udp     bool
		wantErr bool
	}{
		{`"PROTOCOL_UDP"`, true, false}, {`"UDP"`, true, false}, {`2`, true, false},
		{`"PROTOCOL_TCP"`, false, false}, {`1`, false, false}, {`0`, false, false}, {`"PROTOCOL_UNKNOWN"`, false, false},
		{`"PROTOCOL_SCTP"`, false, true}, {`7`, false, true}, {`{}`, false, true},
	} {
		in := `{"records":[{"conn":{"name":"x","protocol":` + tc.raw + `,"remoteAddr":"h.example.com:53"}}]}`
		list, _, err := Decode([]byte(in))
		if tc.wantErr {
			if err == nil {
				t.Errorf("protocol %s: no error", tc.raw)
			}
			continue
		}
		if err != nil || len(list) != 1 || list[0].UDP() != tc.udp {
			t.Errorf("protocol %s: %+v, %v; want udp=%v", tc.raw, list, err, tc.udp)
		}
	}
}
