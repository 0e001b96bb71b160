package server

import (
	"crypto/tls"
	"errors"
)

// certSet is the server certificates in use; reload swaps it.
type certSet struct {
	certs []tls.Certificate
	h1    bool // codec_type: http1
}

// serverTLS is the listener's TLS config: certificates picked by SNI
// from the current set (so reloads apply to new handshakes), and a
// client certificate requested only for hosts whose route asks for one
// (tls_downstream_client_ca), so browsers are not prompted elsewhere.
func (s *Server) serverTLS() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		cs := s.certs.Load()
		if cs == nil || len(cs.certs) == 0 {
			return nil, errors.New("no server certificate")
		}
		c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: cs.certs, NextProtos: []string{"h2", "http/1.1"}}
		if cs.h1 {
			c.NextProtos = []string{"http/1.1"}
		}
		if m := s.cfg.Load().DownstreamMTLS; m.Pool != nil && m.Enforcement == "reject_connection" {
			c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, m.Pool
		} else if m.Pool != nil || s.table.Load().WantsClientCert(hello.ServerName) {
			c.ClientAuth = tls.RequestClientCert
		}
		return c, nil
	}
	return cfg
}

func (s *Server) setCerts(certs []tls.Certificate, h1 bool) {
	s.certs.Store(&certSet{certs: certs, h1: h1})
}
