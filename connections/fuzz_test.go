package connections

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzDecode: any file either fails to decode or gives connections that,
// when valid, survive a Pomerium Desktop export and re-import with their
// protocol and kept fields.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"records":[{"id":"a","source":"s","conn":{"name":"x","protocol":"PROTOCOL_UDP","remoteAddr":"udp+https://h.example.com:53","clientCertFromStore":{}}}]}`))
	f.Add([]byte(`{"@type":"type.googleapis.com/pomerium.cli.Records","records":[{"conn":{"remote_addr":"h:1","protocol":2}}]}`))
	f.Add([]byte(`{"version":1,"connections":[{"id":"a","name":"n","destination":"h:1","protocol":"udp"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		list, _, err := Decode(data)
		if err != nil {
			return
		}
		var valid []Connection
		for _, c := range list {
			// Files named in the input are not read: the fuzzer stays hermetic.
			c.TLS.CAFile, c.TLS.ClientCertFile, c.TLS.ClientKeyFile = "", "", ""
			if n, err := Normalize(c); err == nil {
				valid = append(valid, n)
			}
		}
		var out bytes.Buffer
		if err := Export(&out, valid, ExportOptions{Format: FormatPomeriumDesktop, IncludeSecrets: true}); err != nil {
			return // e.g. a CA file that cannot be read
		}
		again, _, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("our own export does not decode: %v\n%s", err, out.Bytes())
		}
		if len(again) != len(valid) {
			t.Fatalf("re-import: %d connections; want %d", len(again), len(valid))
		}
		for i := range valid {
			if again[i].Protocol != valid[i].Protocol || !slices.Equal(again[i].Desktop.normalized().Fields(), valid[i].Desktop.Fields()) {
				t.Fatalf("round trip changed %+v into %+v", valid[i], again[i])
			}
		}
	})
}
