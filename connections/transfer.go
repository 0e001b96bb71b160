package connections

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
)

// Format names an export file format.
type Format string

const (
	// FormatPorthole is {"version":1,"connections":[...]}, the store's own form.
	FormatPorthole Format = "porthole"
	// FormatPomeriumDesktop is protojson of pomerium.cli.Records in an Any
	// wrapper, as Pomerium Desktop exports it.
	FormatPomeriumDesktop Format = "pomerium-desktop"
)

// desktopType is the Any type URL of Pomerium Desktop's export.
const desktopType = "type.googleapis.com/pomerium.cli.Records"

// ExportOptions tune Export.
type ExportOptions struct {
	Format Format // "" means FormatPorthole
	// IncludeSecrets keeps private keys (inline client keys; in the
	// Pomerium Desktop format also the contents of key files). Off, they
	// are left out and the file is safe to share.
	IncludeSecrets bool
}

// Export writes list to w in opts.Format.
func Export(w io.Writer, list []Connection, opts ExportOptions) error {
	var b []byte
	var err error
	switch opts.Format {
	case "", FormatPorthole:
		out := make([]Connection, len(list))
		for i, c := range list {
			if !opts.IncludeSecrets {
				c.TLS.ClientKey = ""
			}
			out[i] = c
		}
		b, err = encodeStore(out)
	case FormatPomeriumDesktop:
		b, err = encodeDesktop(list, opts.IncludeSecrets)
	default:
		return fmt.Errorf("unknown export format %q: want %s or %s", opts.Format, FormatPorthole, FormatPomeriumDesktop)
	}
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing export: %w", err)
	}
	return nil
}

// WriteExport writes an export of list to path atomically, mode 0600
// (an export may hold keys).
func WriteExport(path string, list []Connection, opts ExportOptions) error {
	var buf bytes.Buffer
	if err := Export(&buf, list, opts); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}

// Decode reads an export in either format (Pomerium Desktop's with or
// without the Any wrapper) and returns its connections, not yet validated.
func Decode(data []byte) ([]Connection, Format, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, "", fmt.Errorf("reading import file: not JSON: %w", err)
	}
	switch {
	case probe["version"] != nil || probe["connections"] != nil:
		list, err := decodeStore(data)
		if err != nil {
			return nil, "", fmt.Errorf("reading import file: %w", err)
		}
		return list, FormatPorthole, nil
	case probe["records"] != nil || probe["@type"] != nil:
		list, err := decodeDesktop(probe)
		if err != nil {
			return nil, "", fmt.Errorf("reading Pomerium Desktop export: %w", err)
		}
		return list, FormatPomeriumDesktop, nil
	}
	return nil, "", errors.New(`reading import file: neither a connections export ("version", "connections") nor a Pomerium Desktop export ("records")`)
}

// ImportResult counts what Import did.
type ImportResult struct {
	Added, Updated, Unchanged int
	// Warnings are one-line notes for the user (a client certificate
	// dropped because the file had no key for it).
	Warnings []string
}

// Import merges incoming (from Decode) into the store in one write. An
// incoming connection replaces the saved one with the same id, else the
// one with the same name and destination, else it is added (keeping its
// id when free), so importing the same file twice adds nothing. A client
// key the file left out is kept from the saved connection; a new
// connection whose certificate has no key is imported without the
// certificate, with a warning.
func (s *Store) Import(incoming []Connection) (ImportResult, error) {
	if err := validateIncoming(incoming); err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err := s.Modify(func(list []Connection) ([]Connection, error) {
		var err error
		list, res, err = mergeImport(list, incoming)
		return list, err
	})
	return res, err
}

// ImportPlan is what Import would do (--dry-run): the same counts and
// warnings, nothing written.
func (s *Store) ImportPlan(incoming []Connection) (ImportResult, error) {
	if err := validateIncoming(incoming); err != nil {
		return ImportResult{}, err
	}
	list, err := s.List()
	if err != nil {
		return ImportResult{}, err
	}
	_, res, err := mergeImport(list, incoming)
	return res, err
}

// mergeImport is Import's merge of incoming into list.
func mergeImport(list, incoming []Connection) ([]Connection, ImportResult, error) {
	var res ImportResult
	for _, in := range incoming {
		in.ID = strings.TrimSpace(in.ID)
		i := matchImport(list, in)
		var old *Connection
		if i >= 0 {
			old = &list[i]
			in.ID = old.ID
			if in.Source == nil {
				in.Source = old.Source
			}
		}
		if hasCert(in) && !hasKey(in) {
			if old != nil && hasKey(*old) {
				in.TLS.ClientKey, in.TLS.ClientKeyFile = old.TLS.ClientKey, old.TLS.ClientKeyFile
			} else {
				in.TLS.ClientCert, in.TLS.ClientCertFile = "", ""
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s: the file has no client key, so its client certificate was left out", in.Name))
			}
		}
		in, err := Normalize(in)
		if err != nil {
			return nil, res, fmt.Errorf("connection %q: %w", in.Name, err)
		}
		for _, f := range in.Desktop.Fields() {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: Pomerium Desktop's %s is not supported here; it is kept and written back on a Pomerium Desktop export", in.Name, f))
		}
		switch {
		case old == nil:
			if in.ID != "" && idTaken(list, in.ID) {
				in.ID = ""
			}
			list = append(list, in)
			res.Added++
		case reflect.DeepEqual(mustNormalize(*old), in):
			res.Unchanged++
		default:
			list[i] = in
			res.Updated++
		}
	}
	return list, res, nil
}

func validateIncoming(incoming []Connection) error {
	for i, c := range incoming {
		probe := c
		probe.TLS.ClientCert, probe.TLS.ClientCertFile, probe.TLS.ClientKey, probe.TLS.ClientKeyFile = "", "", "", ""
		if err := Validate(probe); err != nil {
			return fmt.Errorf("connection %d (%q): %w", i+1, c.Name, err)
		}
	}
	return nil
}

func hasCert(c Connection) bool { return c.TLS.ClientCert != "" || c.TLS.ClientCertFile != "" }
func hasKey(c Connection) bool  { return c.TLS.ClientKey != "" || c.TLS.ClientKeyFile != "" }

func matchImport(list []Connection, in Connection) int {
	if in.ID != "" {
		for i, c := range list {
			if c.ID == in.ID {
				return i
			}
		}
	}
	for i, c := range list {
		if c.Name == in.Name && c.Destination == in.Destination {
			return i
		}
	}
	return -1
}

func idTaken(list []Connection, id string) bool {
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

// The Pomerium Desktop form, after pomerium/cli proto/api.proto:
//
//	message Record { optional string id = 1; repeated string tags = 2; optional Connection conn = 3; }
//	message Connection { optional string name = 1; string remote_addr = 2; optional string listen_addr = 3;
//	  optional string pomerium_url = 4; oneof tls_options { bool disable_tls_verification = 5; bytes ca_cert = 6; }
//	  optional Certificate client_cert = 7; }
//	message Certificate { bytes cert = 1; optional bytes key = 2; ... }
//
// plus conn.autostart and conn.protocol (PROTOCOL_TCP, PROTOCOL_UDP) of
// newer versions; keys we cannot honour (conn.clientCertFromStore,
// record.source, anything newer) are kept in Connection.Desktop and
// written back on export; and the
// bytes tls_client_cert = 7 / tls_client_key = 8 of older versions.
// protojson writes lowerCamel names and reads both those and the proto
// names; bytes are base64.
type desktopRecords struct {
	Type    string            `json:"@type,omitempty"`
	Records []json.RawMessage `json:"records"`
}

type desktopRecord struct {
	ID   string          `json:"id,omitempty"`
	Tags []string        `json:"tags,omitempty"`
	Conn json.RawMessage `json:"conn,omitempty"`
}

type desktopConn struct {
	Name                   string       `json:"name,omitempty"`
	Protocol               string       `json:"protocol"`
	RemoteAddr             string       `json:"remoteAddr"`
	ListenAddr             string       `json:"listenAddr,omitempty"`
	PomeriumURL            string       `json:"pomeriumUrl,omitempty"`
	DisableTLSVerification bool         `json:"disableTlsVerification,omitempty"`
	CACert                 []byte       `json:"caCert,omitempty"`
	ClientCert             *desktopCert `json:"clientCert,omitempty"`
	Autostart              bool         `json:"autostart,omitempty"`
}

type desktopCert struct {
	Cert []byte `json:"cert,omitempty"`
	Key  []byte `json:"key,omitempty"`
}

func encodeDesktop(list []Connection, secrets bool) ([]byte, error) {
	out := desktopRecords{Type: desktopType, Records: []json.RawMessage{}}
	for _, c := range list {
		dc := &desktopConn{
			Name: c.Name, Protocol: desktopProtocol(c), RemoteAddr: c.Destination, ListenAddr: c.ListenAddr,
			PomeriumURL: c.PomeriumURL, DisableTLSVerification: c.TLS.DisableVerification,
			Autostart: c.Autostart,
		}
		if !dc.DisableTLSVerification { // a oneof in the proto
			ca, err := inlineOrFile(c.TLS.CACert, c.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("connection %q: CA: %w", c.Name, err)
			}
			dc.CACert = decodeMaybeBase64(ca)
		}
		cert, err := inlineOrFile(c.TLS.ClientCert, c.TLS.ClientCertFile)
		if err != nil {
			return nil, fmt.Errorf("connection %q: client certificate: %w", c.Name, err)
		}
		if len(cert) > 0 {
			dc.ClientCert = &desktopCert{Cert: cert}
			if secrets {
				key, err := inlineOrFile(c.TLS.ClientKey, c.TLS.ClientKeyFile)
				if err != nil {
					return nil, fmt.Errorf("connection %q: client key: %w", c.Name, err)
				}
				dc.ClientCert.Key = key
			}
		}
		var extra DesktopExtra
		if c.Desktop != nil {
			extra = *c.Desktop
		}
		conn, err := json.Marshal(dc)
		if err == nil {
			conn, err = withExtra(conn, extra.Conn)
		}
		var rec json.RawMessage
		if err == nil {
			rec, err = json.Marshal(desktopRecord{ID: c.ID, Tags: c.Tags, Conn: conn})
		}
		if err == nil {
			rec, err = withExtra(rec, extra.Record)
		}
		if err != nil {
			return nil, fmt.Errorf("connection %q: encoding: %w", c.Name, err)
		}
		out.Records = append(out.Records, rec)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding Pomerium Desktop export: %w", err)
	}
	return append(b, '\n'), nil
}

func inlineOrFile(inline, file string) ([]byte, error) {
	if inline != "" {
		return []byte(inline), nil
	}
	if file == "" {
		return nil, nil
	}
	b, err := bounded.ReadFile(file, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("reading %s for the export: %w", file, err)
	}
	return b, nil
}

// decodeMaybeBase64 turns base64 of PEM (as --ca-cert takes it) into PEM.
func decodeMaybeBase64(b []byte) []byte {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		return b
	}
	if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err == nil {
		return d
	}
	return b
}

func decodeDesktop(probe map[string]json.RawMessage) ([]Connection, error) {
	if raw := probe["@type"]; raw != nil {
		var typ string
		if err := json.Unmarshal(raw, &typ); err != nil || typ != desktopType {
			return nil, fmt.Errorf(`"@type" is %s; want %q`, raw, desktopType)
		}
	}
	var records []json.RawMessage
	if err := json.Unmarshal(probe["records"], &records); err != nil {
		return nil, fmt.Errorf(`"records": %w`, err)
	}
	list := make([]Connection, 0, len(records))
	for i, raw := range records {
		c, err := decodeDesktopRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i+1, err)
		}
		if c != nil {
			list = append(list, *c)
		}
	}
	return list, nil
}

// pjObject reads a protojson object, whose keys may be lowerCamel or the
// proto names.
type pjObject map[string]json.RawMessage

func (o pjObject) get(camel, proto string, v any) error {
	raw, ok := o[camel]
	if !ok {
		raw, ok = o[proto]
	}
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%q: %w", camel, err)
	}
	return nil
}

func decodeDesktopRecord(raw json.RawMessage) (*Connection, error) {
	var rec pjObject
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, err
	}
	var c Connection
	var conn pjObject
	if err := errors.Join(rec.get("id", "id", &c.ID), rec.get("tags", "tags", &c.Tags), rec.get("conn", "conn", &conn)); err != nil {
		return nil, err
	}
	if conn == nil {
		return nil, nil // a tags-only record has nothing to connect to
	}
	proto, err := parseDesktopProtocol(conn["protocol"])
	if err != nil {
		return nil, err
	}
	c.Protocol = proto
	if x := (DesktopExtra{Record: unknownKeys(rec, desktopRecordKeys), Conn: unknownKeys(conn, desktopConnKeys)}); x.Record != nil || x.Conn != nil {
		c.Desktop = &x
	}
	var ca []byte
	var cert pjObject
	err = errors.Join(
		conn.get("name", "name", &c.Name),
		conn.get("remoteAddr", "remote_addr", &c.Destination),
		conn.get("listenAddr", "listen_addr", &c.ListenAddr),
		conn.get("pomeriumUrl", "pomerium_url", &c.PomeriumURL),
		conn.get("disableTlsVerification", "disable_tls_verification", &c.TLS.DisableVerification),
		conn.get("caCert", "ca_cert", &ca),
		conn.get("clientCert", "client_cert", &cert),
		conn.get("autostart", "autostart", &c.Autostart),
	)
	if err != nil {
		return nil, err
	}
	c.TLS.CACert = string(ca)
	if cert != nil {
		var crt, key []byte
		if err := errors.Join(cert.get("cert", "cert", &crt), cert.get("key", "key", &key)); err != nil {
			return nil, fmt.Errorf("clientCert: %w", err)
		}
		if len(key) == 0 {
			_ = cert.get("keyData", "key_data", &key)
		}
		c.TLS.ClientCert, c.TLS.ClientKey = string(crt), string(key)
	} else {
		// Older versions: bytes tls_client_cert = 7, tls_client_key = 8.
		var crt, key []byte
		if err := errors.Join(conn.get("tlsClientCert", "tls_client_cert", &crt), conn.get("tlsClientKey", "tls_client_key", &key)); err != nil {
			return nil, err
		}
		c.TLS.ClientCert, c.TLS.ClientKey = string(crt), string(key)
	}
	if c.Name == "" {
		c.Name = c.Destination
	}
	return &c, nil
}
