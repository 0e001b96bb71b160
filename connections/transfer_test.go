package connections

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

const (
	testCA   = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
	testCert = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"
	testKey  = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// desktopSample is shaped like a Pomerium Desktop export: protojson of
// pomerium.cli.Records in an Any wrapper (lowerCamel names, bytes base64).
func desktopSample(wrapped bool) string {
	typ := ""
	if wrapped {
		typ = `"@type": "type.googleapis.com/pomerium.cli.Records",`
	}
	return `{` + typ + `
  "records": [
    {"id": "5b0d6a6e-0bd4-4a3c-9d8a-7e0f1f0c2a11", "tags": ["prod", "db"],
     "conn": {"name": "Postgres", "remoteAddr": "tcp+https://postgres.example.com:5432",
              "listenAddr": "127.0.0.1:5432", "pomeriumUrl": "https://proxy.example.com:8443",
              "caCert": "` + b64(testCA) + `", "autostart": true}},
    {"id": "0e7f1d3c-2222-4f5a-8b9c-1d2e3f4a5b6c",
     "conn": {"name": "Staging SSH", "remoteAddr": "ssh.staging.example.com:22",
              "disableTlsVerification": true,
              "clientCert": {"cert": "` + b64(testCert) + `", "key": "` + b64(testKey) + `"}}},
    {"id": "tags-only", "tags": ["x"]},
    {"id": "proto-names", "conn": {"name": "Redis", "remote_addr": "redis.example.com:6379", "listen_addr": ":6379"}}
  ]
}`
}

func TestDecodeDesktop(t *testing.T) {
	want := []Connection{
		{ID: "5b0d6a6e-0bd4-4a3c-9d8a-7e0f1f0c2a11", Name: "Postgres", Destination: "tcp+https://postgres.example.com:5432",
			ListenAddr: "127.0.0.1:5432", PomeriumURL: "https://proxy.example.com:8443", Tags: []string{"prod", "db"},
			TLS: tlsconfig.Options{CACert: testCA}, Autostart: true},
		{ID: "0e7f1d3c-2222-4f5a-8b9c-1d2e3f4a5b6c", Name: "Staging SSH", Destination: "ssh.staging.example.com:22",
			TLS: tlsconfig.Options{DisableVerification: true, ClientCert: testCert, ClientKey: testKey}},
		{ID: "proto-names", Name: "Redis", Destination: "redis.example.com:6379", ListenAddr: ":6379"},
	}
	for _, wrapped := range []bool{true, false} {
		t.Run(map[bool]string{true: "any wrapper", false: "bare records"}[wrapped], func(t *testing.T) {
			got, f, err := Decode([]byte(desktopSample(wrapped)))
			if err != nil {
				t.Fatal(err)
			}
			if f != FormatPomeriumDesktop {
				t.Errorf("format %q; want %q", f, FormatPomeriumDesktop)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestDecodeDesktopOtherVersions: exports of older Pomerium Desktop
// versions (the client certificate as conn.tlsClientCert/tlsClientKey
// bytes) and newer ones (record.source, kept) import too.
func TestDecodeDesktopOtherVersions(t *testing.T) {
	in := `{"@type": "type.googleapis.com/pomerium.cli.Records", "records": [
  {"id": "old", "tags": ["legacy"], "source": "https://proxy.example.com",
   "conn": {"name": "Old mTLS", "remoteAddr": "tcp+https://db.example.com:5432",
            "tlsClientCert": "` + b64(testCert) + `", "tlsClientKey": "` + b64(testKey) + `"}},
  {"id": "old-proto-names",
   "conn": {"name": "Old proto names", "remote_addr": "db.example.com:5433",
            "tls_client_cert": "` + b64(testCert) + `", "tls_client_key": "` + b64(testKey) + `"}}
]}`
	got, f, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if f != FormatPomeriumDesktop {
		t.Errorf("format %q; want %q", f, FormatPomeriumDesktop)
	}
	want := []Connection{
		{ID: "old", Name: "Old mTLS", Destination: "tcp+https://db.example.com:5432", Tags: []string{"legacy"},
			TLS:     tlsconfig.Options{ClientCert: testCert, ClientKey: testKey},
			Desktop: &DesktopExtra{Record: map[string]json.RawMessage{"source": json.RawMessage(`"https://proxy.example.com"`)}}},
		{ID: "old-proto-names", Name: "Old proto names", Destination: "db.example.com:5433",
			TLS: tlsconfig.Options{ClientCert: testCert, ClientKey: testKey}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n got %+v\nwant %+v", got, want)
	}
	s := NewStore(filepath.Join(t.TempDir(), "c.json"))
	for i, wantAdded := range []int{2, 0} { // twice: nothing duplicated
		res, err := s.Import(got)
		// record.source is kept, and said so: never dropped silently.
		if err != nil || res.Added != wantAdded || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "record.source") {
			t.Errorf("import %d: got %+v, %v; want %d added, a warning naming record.source", i+1, res, err, wantAdded)
		}
	}
	if c, err := s.Get("old"); err != nil || c.TLS.ClientKey != testKey {
		t.Errorf("saved %+v, %v; want the client key kept", c, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"not json":   {"nope", "not JSON"},
		"other json": {`{"a":1}`, "neither"},
		"wrong type": {`{"@type":"type.googleapis.com/other","records":[]}`, "pomerium.cli.Records"},
		"bad record": {`{"records":[{"conn":{"remoteAddr":5}}]}`, "record 1"},
		"bad ours":   {`{"version":1,"connections":[{"name":"x"}]}`, "no id"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Decode([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestImportTwiceNoDuplicates(t *testing.T) {
	for _, wrapped := range []bool{true, false} {
		s := NewStore(filepath.Join(t.TempDir(), "c.json"))
		in, _, err := Decode([]byte(desktopSample(wrapped)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Import(in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 3 {
			t.Errorf("first import %+v; want 3 added", res)
		}
		res, err = s.Import(in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 0 || res.Updated != 0 || res.Unchanged != 3 {
			t.Errorf("second import %+v; want 3 unchanged", res)
		}
		list, _ := s.List()
		if len(list) != 3 {
			t.Errorf("store holds %d; want 3", len(list))
		}
		if !slices.Equal(list[0].Tags, []string{"db", "prod"}) {
			t.Errorf("tags %q; want sorted db, prod", list[0].Tags)
		}
	}
}

func TestImportMatchesByNameAndDestination(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "c.json"))
	c, err := s.Put(Connection{Name: "db", Destination: "h:1", ListenAddr: ":1"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Import([]Connection{{ID: "foreign", Name: "db", Destination: "h:1", ListenAddr: ":2"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != 1 {
		t.Errorf("result %+v; want 1 updated", res)
	}
	got, err := s.Get(c.ID)
	if err != nil || got.ListenAddr != ":2" {
		t.Errorf("got %+v, %v; want the same id updated to :2", got, err)
	}
}

func TestExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyFile, []byte(testKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, []byte(testCert), 0o600); err != nil {
		t.Fatal(err)
	}
	list := []Connection{
		{ID: "a1", Name: "inline", Destination: "h:1", Tags: []string{"t"}, Autostart: true,
			TLS:    tlsconfig.Options{CACert: b64(testCA), ClientCert: testCert, ClientKey: testKey},
			Source: &Source{PortalURL: portal, RouteID: "r1"}},
		{ID: "b2", Name: "files", Destination: "tcp+https://p/h:2", ListenAddr: "127.0.0.1:2",
			TLS: tlsconfig.Options{ClientCertFile: certFile, ClientKeyFile: keyFile}},
		{ID: "c3", Name: "insecure", Destination: "h:3", PomeriumURL: "https://p:8443", TLS: tlsconfig.Options{DisableVerification: true}},
	}
	for _, f := range []Format{FormatPorthole, FormatPomeriumDesktop} {
		for _, secrets := range []bool{false, true} {
			name := string(f) + map[bool]string{true: " with secrets", false: " without secrets"}[secrets]
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Export(&buf, list, ExportOptions{Format: f, IncludeSecrets: secrets}); err != nil {
					t.Fatal(err)
				}
				if !json.Valid(buf.Bytes()) {
					t.Fatalf("export is not JSON: %s", buf.String())
				}
				hasKey := strings.Contains(buf.String(), "S0VZ") || strings.Contains(buf.String(), b64(testKey))
				if hasKey != secrets {
					t.Errorf("private key in export = %v; want %v:\n%s", hasKey, secrets, buf.String())
				}
				got, gotFormat, err := Decode(buf.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if gotFormat != f {
					t.Errorf("format %q; want %q", gotFormat, f)
				}
				want := slices.Clone(list)
				for i := range want {
					c := &want[i]
					if f == FormatPomeriumDesktop {
						// The Desktop format inlines files and has no source.
						c.Source = nil
						c.TLS.CACert = map[bool]string{true: testCA}[c.TLS.CACert != ""]
						if c.TLS.ClientCertFile != "" {
							c.TLS.ClientCert, c.TLS.ClientCertFile = testCert, ""
							c.TLS.ClientKey, c.TLS.ClientKeyFile = testKey, ""
						}
					}
					if !secrets {
						c.TLS.ClientKey = ""
						if f == FormatPomeriumDesktop {
							c.TLS.ClientKeyFile = ""
						}
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("round trip\n got %+v\nwant %+v", got, want)
				}
			})
		}
	}
	t.Run("desktop shape", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Export(&buf, list[:1], ExportOptions{Format: FormatPomeriumDesktop, IncludeSecrets: true}); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m["@type"] != "type.googleapis.com/pomerium.cli.Records" {
			t.Errorf("@type %v; want the Records type URL", m["@type"])
		}
		conn := m["records"].([]any)[0].(map[string]any)["conn"].(map[string]any)
		for _, k := range []string{"name", "remoteAddr", "caCert", "clientCert", "autostart"} {
			if _, ok := conn[k]; !ok {
				t.Errorf("conn has no %q: %v", k, conn)
			}
		}
		if conn["caCert"] != b64(testCA) {
			t.Errorf("caCert %v; want base64 of the PEM", conn["caCert"])
		}
	})
}

func TestImportKeepsKeyMissingFromExport(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "c.json"))
	c, err := s.Put(Connection{Name: "m", Destination: "h:1", TLS: tlsconfig.Options{ClientCert: testCert, ClientKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := s.List()
	var buf bytes.Buffer
	if err := Export(&buf, list, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	in, _, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Import(in)
	if err != nil || res.Unchanged != 1 {
		t.Fatalf("re-import %+v, %v; want 1 unchanged", res, err)
	}
	if got, _ := s.Get(c.ID); got.TLS.ClientKey != testKey {
		t.Errorf("client key lost on re-import")
	}
	// Into an empty store, the keyless certificate is dropped with a warning.
	s2 := NewStore(filepath.Join(t.TempDir(), "c.json"))
	res, err = s2.Import(in)
	if err != nil || res.Added != 1 || len(res.Warnings) != 1 {
		t.Fatalf("import %+v, %v; want 1 added with a warning", res, err)
	}
}
