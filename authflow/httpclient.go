package authflow

import (
	"crypto/tls"
	"net/http"
	"time"
)

// NewHTTPClient is the client front ends give Flow and portalclient: TLS
// from cfg (tlsconfig.Options.Config), HTTPS_PROXY/NO_PROXY honoured,
// HTTP/2 when offered, and redirects returned rather than followed (a 302
// from the proxy means "sign in", which the callers handle).
func NewHTTPClient(cfg *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg != nil {
		tr.TLSClientConfig = cfg.Clone()
	}
	tr.ForceAttemptHTTP2 = true
	tr.Proxy = http.ProxyFromEnvironment
	return &http.Client{
		Transport:     tr,
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
