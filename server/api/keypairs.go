package api

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/server/store"
)

// KeyPairSpec is a key pair as written. On update an empty certificate
// or key keeps the stored one.
type KeyPairSpec struct {
	NamespaceID string `json:"namespaceId"`
	Name        string `json:"name"`
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
}

// KeyPair is a key pair as returned; the private key never is.
type KeyPair struct {
	CertificateInfo []CertificateInfo `json:"certificateInfo"`
	ID              string            `json:"id"`
	CreatedAt       string            `json:"createdAt"`
	UpdatedAt       string            `json:"updatedAt"`
	NamespaceID     string            `json:"namespaceId"`
	Certificate     string            `json:"certificate"`
	Name            string            `json:"name"`
	HasKey          bool              `json:"hasKey"`
	// Origin: "system" for the certificates the server serves from its
	// config or dev CA (read-only), "user" for those added here.
	Origin string `json:"origin"`
	Status string `json:"status"`
}

// CertificateInfo describes one certificate of a key pair's chain.
type CertificateInfo struct {
	Version        int      `json:"version"`
	Serial         string   `json:"serial"`
	Issuer         Name     `json:"issuer"`
	Subject        Name     `json:"subject"`
	NotBefore      string   `json:"notBefore"`
	NotAfter       string   `json:"notAfter"`
	IsCA           bool     `json:"isCa"`
	DNSNames       []string `json:"dnsNames"`
	IPAddresses    []string `json:"ipAddresses"`
	EmailAddresses []string `json:"emailAddresses"`
}

// Name is a certificate's issuer or subject.
type Name struct {
	CommonName         string   `json:"commonName"`
	Organization       []string `json:"organization"`
	OrganizationalUnit []string `json:"organizationalUnit"`
	Country            []string `json:"country"`
}

// keyPairView is a key pair with its parsed chain.
type keyPairView struct {
	KeyPair
	certs []*x509.Certificate
}

// covers reports whether the leaf certificate is valid for the host of
// the route URL from.
func (k *keyPairView) covers(from string) bool {
	u, err := url.Parse(from)
	if err != nil || len(k.certs) == 0 {
		return false
	}
	return k.certs[0].VerifyHostname(u.Hostname()) == nil
}

func parseChain(certPEM []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func certInfo(c *x509.Certificate) CertificateInfo {
	nm := func(cn string, o, ou, c []string) Name {
		return Name{CommonName: cn, Organization: nonNil(o), OrganizationalUnit: nonNil(ou), Country: nonNil(c)}
	}
	ci := CertificateInfo{Version: c.Version, Serial: c.SerialNumber.String(),
		Issuer:    nm(c.Issuer.CommonName, c.Issuer.Organization, c.Issuer.OrganizationalUnit, c.Issuer.Country),
		Subject:   nm(c.Subject.CommonName, c.Subject.Organization, c.Subject.OrganizationalUnit, c.Subject.Country),
		NotBefore: formatTime(c.NotBefore), NotAfter: formatTime(c.NotAfter), IsCA: c.IsCA,
		DNSNames: nonNil(c.DNSNames), IPAddresses: []string{}, EmailAddresses: nonNil(c.EmailAddresses)}
	for _, ip := range c.IPAddresses {
		ci.IPAddresses = append(ci.IPAddresses, ip.String())
	}
	return ci
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func view(kp KeyPair, certs []*x509.Certificate) *keyPairView {
	kp.CertificateInfo = []CertificateInfo{}
	for _, c := range certs {
		kp.CertificateInfo = append(kp.CertificateInfo, certInfo(c))
	}
	kp.Status = "ready"
	return &keyPairView{KeyPair: kp, certs: certs}
}

func storedKeyPair(rec *store.KeyPair) *keyPairView {
	certs, _ := parseChain([]byte(rec.Certificate)) // validated when written
	ns := rec.NamespaceID
	if ns == "" {
		ns = NamespaceID
	}
	return view(KeyPair{ID: rec.ID, CreatedAt: formatTime(rec.CreatedAt), UpdatedAt: formatTime(rec.UpdatedAt),
		NamespaceID: ns, Certificate: rec.Certificate, Name: rec.Name, HasKey: rec.Key != "", Origin: "user"}, certs)
}

// systemKeyPairs are the certificates the server serves.
func (a *API) systemKeyPairs() []*keyPairView {
	if a.opts.Certificates == nil {
		return nil
	}
	var out []*keyPairView
	for _, c := range a.opts.Certificates() {
		if len(c.Certificate) == 0 {
			continue
		}
		var certPEM []byte
		var certs []*x509.Certificate
		for _, der := range c.Certificate {
			certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
			if x, err := x509.ParseCertificate(der); err == nil {
				certs = append(certs, x)
			}
		}
		h := sha256.Sum256(c.Certificate[0])
		name := "server certificate"
		if len(certs) > 0 && certs[0].Subject.CommonName != "" {
			name = certs[0].Subject.CommonName
		}
		kp := KeyPair{ID: "system-" + hex.EncodeToString(h[:8]), NamespaceID: NamespaceID, Certificate: string(certPEM),
			Name: name, HasKey: c.PrivateKey != nil, Origin: "system"}
		if len(certs) > 0 {
			kp.CreatedAt, kp.UpdatedAt = formatTime(certs[0].NotBefore), formatTime(certs[0].NotBefore)
		}
		out = append(out, view(kp, certs))
	}
	return out
}

func (a *API) allKeyPairs(ctx context.Context) ([]*keyPairView, error) {
	out := a.systemKeyPairs()
	recs, err := store.KeyPairs.List(ctx, a.st, store.Query{})
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		out = append(out, storedKeyPair(rec))
	}
	return out, nil
}

func (a *API) isSystemKeyPair(id string) bool {
	return slices.ContainsFunc(a.systemKeyPairs(), func(k *keyPairView) bool { return k.ID == id })
}

func (a *API) listKeyPairs(w http.ResponseWriter, r *http.Request) error {
	out := []KeyPair{}
	if !namespaceFilter(r) {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	kps, err := a.allKeyPairs(r.Context())
	if err != nil {
		return err
	}
	for _, kp := range kps {
		out = append(out, kp.KeyPair)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getKeyPair(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("keyPairId")
	for _, kp := range a.systemKeyPairs() {
		if kp.ID == id {
			writeJSON(w, http.StatusOK, kp.KeyPair)
			return nil
		}
	}
	rec, err := store.KeyPairs.Get(r.Context(), a.st, id)
	if err != nil {
		return notFoundOr(err, "key pair", id)
	}
	writeJSON(w, http.StatusOK, storedKeyPair(rec).KeyPair)
	return nil
}

// validateKeyPair checks the PEM: a certificate chain and, when given, a
// private key matching its first certificate.
func validateKeyPair(certPEM, keyPEM string) error {
	if len(strings.TrimSpace(certPEM)) == 0 {
		return fieldError("certificate", "required: a PEM certificate (chain)")
	}
	certs, err := parseChain([]byte(certPEM))
	if err != nil {
		return fieldError("certificate", "not a valid certificate: %s", err)
	}
	if len(certs) == 0 {
		return fieldError("certificate", "no PEM CERTIFICATE block found")
	}
	if keyPEM != "" {
		if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
			return fieldError("key", "not a PEM private key matching the certificate: %s", err)
		}
	}
	return nil
}

func (a *API) createKeyPair(w http.ResponseWriter, r *http.Request) error {
	return a.putKeyPair(w, r, "")
}

func (a *API) updateKeyPair(w http.ResponseWriter, r *http.Request) error {
	return a.putKeyPair(w, r, r.PathValue("keyPairId"))
}

func (a *API) putKeyPair(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	if id != "" && a.isSystemKeyPair(id) {
		return errorf(http.StatusForbidden, "key pair %q is the server's own certificate; change it in the config", id)
	}
	var spec KeyPairSpec
	if err := decodeBody(r, &spec); err != nil {
		return err
	}
	if err := checkNamespace("namespaceId", spec.NamespaceID); err != nil {
		return err
	}
	var out KeyPair
	err := a.change(ctx, func(c *changeTx) error {
		rec := &store.KeyPair{Meta: store.Meta{ID: store.NewID()}, NamespaceID: NamespaceID}
		activity := "create"
		if id != "" {
			old, err := store.KeyPairs.Get(ctx, c.tx, id)
			if err != nil {
				return notFoundOr(err, "key pair", id)
			}
			rec, activity = old, "update"
		}
		if spec.Certificate != "" || activity == "create" {
			rec.Certificate = spec.Certificate
		}
		if spec.Key != "" {
			rec.Key = spec.Key
		}
		if spec.Name != "" || activity == "create" {
			rec.Name = spec.Name
		}
		if rec.Name == "" {
			if certs, _ := parseChain([]byte(rec.Certificate)); len(certs) > 0 {
				rec.Name = certs[0].Subject.CommonName
			}
		}
		if err := validateKeyPair(rec.Certificate, rec.Key); err != nil {
			return err
		}
		write := store.KeyPairs.Put
		if activity == "create" {
			write = store.KeyPairs.Create
		}
		if err := write(ctx, c.tx, rec); err != nil {
			return err
		}
		if _, err := a.checkRoutes(c, ""); err != nil {
			return err
		}
		out = storedKeyPair(rec).KeyPair
		return c.log(activity, "key_pair", rec.ID, rec.Name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, map[bool]int{true: http.StatusCreated, false: http.StatusOK}[id == ""], out)
	return nil
}

// deleteKeyPair refuses while a route uses the key pair.
func (a *API) deleteKeyPair(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("keyPairId")
	if a.isSystemKeyPair(id) {
		return errorf(http.StatusForbidden, "key pair %q is the server's own certificate; change it in the config", id)
	}
	err := a.change(ctx, func(c *changeTx) error {
		rec, err := store.KeyPairs.Get(ctx, c.tx, id)
		if err != nil {
			return notFoundOr(err, "key pair", id)
		}
		routes, err := store.Routes.List(ctx, c.tx, store.Query{})
		if err != nil {
			return err
		}
		for _, rt := range routes {
			if slices.Contains([]string{rt.TLSCustomCAKeyPairID, rt.TLSClientKeyPairID, rt.TLSDownstreamClientCAKeyPairID}, id) {
				return errorf(http.StatusConflict, "key pair %q is used by route %s (%s); change the route first", id, rt.ID, rt.Name)
			}
		}
		if err := store.KeyPairs.Delete(ctx, c.tx, id); err != nil {
			return err
		}
		return c.log("delete", "key_pair", id, rec.Name)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
