// Package masque is the wire format of UDP tunnels (connect-udp, RFC
// 9298, over HTTP/1.1 Upgrade or HTTP/2 extended CONNECT): the
// /.well-known/masque/udp/<host>/<port>/ path and HTTP capsules (RFC
// 9297) carrying datagrams. The tunnel client and the server share it.
//
//	p := masque.Path("dns.example.com", "53") // request path
//	host, port, err := masque.ParsePath(r.URL.EscapedPath())
//	err = masque.WriteDatagram(w, payload)    // one DATAGRAM capsule
//	payload, err := r.ReadDatagram(buf)       // skips other capsules
package masque

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Protocol is the Upgrade token and the :protocol of extended CONNECT.
const Protocol = "connect-udp"

// PathPrefix starts every connect-udp request path.
const PathPrefix = "/.well-known/masque/udp/"

// MaxPayload is the largest UDP payload (65,535 less the 8-byte header).
const MaxPayload = 65527

// maxCapsule bounds a capsule's value: a datagram's context id and
// payload, with room to spare; anything longer is a broken peer.
const maxCapsule = MaxPayload + 16

// capsuleDatagram is the DATAGRAM capsule type (RFC 9297).
const capsuleDatagram = 0

// ErrCapsuleTooLong is a capsule longer than any datagram can be.
var ErrCapsuleTooLong = errors.New("capsule longer than the largest UDP datagram")

// Path is the request path for host and port, host percent-encoded so
// that an IPv6 literal's colons stay inside one segment.
func Path(host, port string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return PathPrefix + url.PathEscape(host) + "/" + url.PathEscape(port) + "/"
}

// ParsePath reads host and port from an escaped request path. The host
// must be a DNS name or an IP literal and the port 1-65535.
func ParsePath(escaped string) (host, port string, err error) {
	rest, ok := strings.CutPrefix(escaped, PathPrefix)
	if !ok {
		return "", "", fmt.Errorf("path does not start with %s", PathPrefix)
	}
	rest = strings.TrimSuffix(rest, "/")
	h, p, ok := strings.Cut(rest, "/")
	if !ok || h == "" || p == "" || strings.Contains(p, "/") {
		return "", "", errors.New("path is not " + PathPrefix + "<host>/<port>/")
	}
	if host, err = url.PathUnescape(h); err != nil {
		return "", "", fmt.Errorf("host in path: %w", err)
	}
	if port, err = url.PathUnescape(p); err != nil {
		return "", "", fmt.Errorf("port in path: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", "", fmt.Errorf("port %q in path is not a number from 1 to 65535", port)
	}
	if !validHost(host) {
		return "", "", fmt.Errorf("host %q in path is not a host name or IP address", host)
	}
	return host, port, nil
}

// Authority is host:port as a route names it (host lower-cased,
// IPv6 in brackets).
func Authority(host, port string) string {
	return net.JoinHostPort(strings.ToLower(host), port)
}

func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// AppendDatagram appends a DATAGRAM capsule (context id 0) carrying
// payload to b.
func AppendDatagram(b, payload []byte) []byte {
	b = appendVarint(b, capsuleDatagram)
	b = appendVarint(b, uint64(1+len(payload)))
	b = appendVarint(b, 0) // context id 0: a UDP payload follows
	return append(b, payload...)
}

// WriteDatagram writes one DATAGRAM capsule in a single Write.
func WriteDatagram(w io.Writer, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("datagram of %d bytes is larger than %d", len(payload), MaxPayload)
	}
	_, err := w.Write(AppendDatagram(make([]byte, 0, len(payload)+16), payload))
	return err
}

// Reader reads capsules from a stream.
type Reader struct {
	r   *bufio.Reader
	buf []byte
}

// NewReader reads capsules from r (buffered unless r already is).
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{r: br}
}

// ReadDatagram returns the payload of the next DATAGRAM capsule with
// context id 0, skipping capsules of other types and contexts (RFC 9297:
// unknown ones are ignored). The slice is valid until the next call.
// io.EOF means the stream ended between capsules.
func (r *Reader) ReadDatagram() ([]byte, error) {
	for {
		typ, err := readVarint(r.r)
		if err != nil {
			return nil, err // io.EOF here is a clean end
		}
		n, err := readVarint(r.r)
		if err != nil {
			return nil, unexpected(err)
		}
		if n > maxCapsule {
			return nil, fmt.Errorf("%w (%d bytes)", ErrCapsuleTooLong, n)
		}
		if cap(r.buf) < int(n) {
			r.buf = make([]byte, n)
		}
		v := r.buf[:n]
		if _, err := io.ReadFull(r.r, v); err != nil {
			return nil, unexpected(err)
		}
		if typ != capsuleDatagram {
			continue
		}
		ctxID, l := parseVarint(v)
		if l == 0 {
			return nil, errors.New("DATAGRAM capsule without a context id")
		}
		if ctxID != 0 {
			continue
		}
		return v[l:], nil
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// QUIC variable-length integers (RFC 9000 section 16).

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return binary.BigEndian.AppendUint16(b, uint16(v)|0x4000)
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, uint32(v)|0x80000000)
	}
	return binary.BigEndian.AppendUint64(b, v|0xc000000000000000)
}

func readVarint(r *bufio.Reader) (uint64, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	n := 1 << (first >> 6)
	v := uint64(first & 0x3f)
	for i := 1; i < n; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// parseVarint decodes a varint at the start of b; l is 0 when b is short.
func parseVarint(b []byte) (v uint64, l int) {
	if len(b) == 0 {
		return 0, 0
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n
}
