package masque

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestPathRoundTrip(t *testing.T) {
	for _, tc := range []struct{ host, port, path, authority string }{
		{"dns.example.com", "53", "/.well-known/masque/udp/dns.example.com/53/", "dns.example.com:53"},
		{"DNS.Example.com", "53", "/.well-known/masque/udp/DNS.Example.com/53/", "dns.example.com:53"},
		{"127.0.0.1", "5353", "/.well-known/masque/udp/127.0.0.1/5353/", "127.0.0.1:5353"},
		{"[::1]", "443", "/.well-known/masque/udp/::1/443/", "[::1]:443"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			if got := Path(tc.host, tc.port); got != tc.path {
				t.Errorf("Path: got %q; want %q", got, tc.path)
			}
			h, p, err := ParsePath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := Authority(h, p); got != tc.authority {
				t.Errorf("Authority: got %q; want %q", got, tc.authority)
			}
		})
	}
}

func TestParsePathRejects(t *testing.T) {
	for _, p := range []string{
		"/.well-known/masque/udp/",
		"/.well-known/masque/udp/host/",
		"/.well-known/masque/udp/host/0/",
		"/.well-known/masque/udp/host/65536/",
		"/.well-known/masque/udp/host/053/",
		"/.well-known/masque/udp/host/x/",
		"/.well-known/masque/udp/host/53/extra/",
		"/.well-known/masque/udp/ho%2Fst/53/",
		"/.well-known/masque/udp/ho st/53/",
		"/.well-known/masque/udp/%zz/53/",
		"/.well-known/masque/udp/host%0d%0aX:1/53/",
		"/.well-known/masque/tcp/host/53/",
		"/other",
	} {
		if h, port, err := ParsePath(p); err == nil {
			t.Errorf("ParsePath(%q) = %q, %q; want an error", p, h, port)
		}
	}
}

func TestDatagramRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	sizes := []int{0, 1, 62, 63, 64, 1400, 16383, 16384, MaxPayload}
	for _, n := range sizes {
		if err := WriteDatagram(&buf, bytes.Repeat([]byte{byte(n)}, n)); err != nil {
			t.Fatal(err)
		}
		// Capsules of other types and contexts are skipped.
		buf.Write([]byte{0x3f, 2, 'h', 'i'})
		buf.Write([]byte{0, 2, 2, 'x'})
	}
	r := NewReader(&buf)
	for _, n := range sizes {
		got, err := r.ReadDatagram()
		if err != nil {
			t.Fatalf("datagram of %d: %v", n, err)
		}
		if !bytes.Equal(got, bytes.Repeat([]byte{byte(n)}, n)) {
			t.Fatalf("datagram of %d: got %d bytes, not the ones sent", n, len(got))
		}
	}
	if _, err := r.ReadDatagram(); err != io.EOF {
		t.Errorf("after the last capsule: got %v; want io.EOF", err)
	}
	if err := WriteDatagram(io.Discard, make([]byte, MaxPayload+1)); err == nil {
		t.Error("WriteDatagram of MaxPayload+1 bytes: no error")
	}
}

func TestReadDatagramBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"cut in the length", []byte{0, 0x40}, io.ErrUnexpectedEOF},
		{"cut in the value", []byte{0, 5, 0, 'a'}, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.in)).ReadDatagram()
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v; want %v", err, tc.want)
			}
		})
	}
	huge := appendVarint(appendVarint(nil, 0), maxCapsule+1)
	if _, err := NewReader(bytes.NewReader(huge)).ReadDatagram(); !errors.Is(err, ErrCapsuleTooLong) {
		t.Errorf("a capsule claiming %d bytes: got %v; want ErrCapsuleTooLong", maxCapsule+1, err)
	}
	if _, err := NewReader(bytes.NewReader([]byte{0, 0})).ReadDatagram(); err == nil || !strings.Contains(err.Error(), "context id") {
		t.Errorf("an empty DATAGRAM capsule: got %v; want a missing context id error", err)
	}
}

// FuzzReadDatagram: any byte stream ends in an error or datagrams that
// re-encode to a readable stream; never a panic or an oversized buffer.
func FuzzReadDatagram(f *testing.F) {
	f.Add(AppendDatagram(nil, []byte("hello")))
	f.Add([]byte{0xc0, 0, 0, 0, 0, 0, 0, 1, 1, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for range 100 {
			p, err := r.ReadDatagram()
			if err != nil {
				return
			}
			if len(p) > maxCapsule {
				t.Fatalf("payload of %d bytes", len(p))
			}
			again, err := NewReader(bytes.NewReader(AppendDatagram(nil, p))).ReadDatagram()
			if err != nil || !bytes.Equal(again, p) {
				t.Fatalf("re-encoded datagram: %v", err)
			}
		}
	})
}

func FuzzParsePath(f *testing.F) {
	f.Add("/.well-known/masque/udp/dns.example.com/53/")
	f.Add("/.well-known/masque/udp/%3A%3A1/53/")
	f.Fuzz(func(t *testing.T, p string) {
		h, port, err := ParsePath(p)
		if err != nil {
			return
		}
		if strings.ContainsAny(h, "/ \r\n\t%") {
			t.Fatalf("host %q accepted", h)
		}
		h2, p2, err := ParsePath(Path(h, port))
		if err != nil || !strings.EqualFold(h2, h) || p2 != port {
			t.Fatalf("Path(%q,%q) does not parse back: %q %q %v", h, port, h2, p2, err)
		}
	})
}
