package connections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DesktopExtra is what a Pomerium Desktop record carried that this
// program does not use: the record's and the connection's unknown keys,
// raw, so a Desktop export gives them back as they came.
type DesktopExtra struct {
	Record map[string]json.RawMessage `json:"record,omitempty"`
	Conn   map[string]json.RawMessage `json:"conn,omitempty"`
}

// Fields names the kept keys ("clientCertFromStore", "record.source"),
// sorted; none for a nil DesktopExtra.
func (d *DesktopExtra) Fields() []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(d.Conn)) {
		out = append(out, k)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Record)) {
		out = append(out, "record."+k)
	}
	return out
}

// Keys a Desktop record and connection may carry that Decode reads, in
// both protojson spellings.
var (
	desktopRecordKeys = map[string]bool{"id": true, "tags": true, "conn": true}
	desktopConnKeys   = map[string]bool{
		"name": true, "remoteAddr": true, "remote_addr": true, "listenAddr": true, "listen_addr": true,
		"pomeriumUrl": true, "pomerium_url": true, "disableTlsVerification": true, "disable_tls_verification": true,
		"caCert": true, "ca_cert": true, "clientCert": true, "client_cert": true, "autostart": true,
		"protocol": true, "tlsClientCert": true, "tls_client_cert": true, "tlsClientKey": true, "tls_client_key": true,
	}
)

// normalized compacts the kept values (a store file or an export may
// have indented them) and is nil when nothing is kept.
func (d *DesktopExtra) normalized() *DesktopExtra {
	if d == nil {
		return nil
	}
	n := &DesktopExtra{Record: unknownKeys(d.Record, nil), Conn: unknownKeys(d.Conn, nil)}
	if n.Record == nil && n.Conn == nil {
		return nil
	}
	return n
}

// unknownKeys are o's keys that known does not list (nil when none).
func unknownKeys(o map[string]json.RawMessage, known map[string]bool) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for k, v := range o {
		if known[k] || string(v) == "null" {
			continue
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		// Compact, so that the same value read from a pretty and a
		// compact file compares equal (an unchanged re-import).
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			v = b.Bytes()
		}
		out[k] = v
	}
	return out
}

// Desktop's Protocol enum (pomerium.cli.Protocol): protojson writes the
// names and reads names or numbers.
const (
	desktopProtocolTCP = "PROTOCOL_TCP"
	desktopProtocolUDP = "PROTOCOL_UDP"
)

func desktopProtocol(c Connection) string {
	if c.UDP() {
		return desktopProtocolUDP
	}
	return desktopProtocolTCP
}

// parseDesktopProtocol reads a protocol value: a name with or without
// the PROTOCOL_ prefix, or the number.
func parseDesktopProtocol(raw json.RawMessage) (string, error) {
	if raw == nil || string(raw) == "null" {
		return ProtocolTCP, nil
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		switch n {
		case 0, 1:
			return ProtocolTCP, nil
		case 2:
			return ProtocolUDP, nil
		}
		return "", fmt.Errorf(`"protocol": unknown value %d`, n)
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", fmt.Errorf(`"protocol": %w`, err)
	}
	switch strings.TrimPrefix(strings.ToUpper(name), "PROTOCOL_") {
	case "UNKNOWN", "TCP", "":
		return ProtocolTCP, nil
	case "UDP":
		return ProtocolUDP, nil
	}
	return "", fmt.Errorf(`"protocol": unknown value %q`, name)
}

// withExtra adds the kept keys to the encoded object b; keys b already
// has win.
func withExtra(b []byte, extra map[string]json.RawMessage) (json.RawMessage, error) {
	if len(extra) == 0 {
		return b, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}
