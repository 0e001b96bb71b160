package server

import (
	"net"
	"net/http"
	"time"
)

// serveHTTPRedirect answers plain HTTP on addr (http_redirect_addr) with
// a 301 to the same URL over https.
func (s *Server) serveHTTPRedirect(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if _, port, err := net.SplitHostPort(s.address); err == nil && port != "443" {
				host = net.JoinHostPort(host, port)
			}
			u := "https://" + host + r.URL.RequestURI()
			w.Header().Set("Location", u)
			w.WriteHeader(http.StatusMovedPermanently)
		}),
	}
	go srv.Serve(ln)
	s.mu.Lock()
	s.extraSrvs = append(s.extraSrvs, srv)
	s.mu.Unlock()
	s.log.Info("redirecting http to https", "address", ln.Addr().String())
	return nil
}
