package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of the at-rest encryption key.
const KeySize = 32

// DeriveKey turns the server's shared_secret (decoded) into the key that
// encrypts secrets at rest, so the key itself is never stored.
func DeriveKey(sharedSecret []byte) []byte {
	m := hmac.New(sha256.New, sharedSecret)
	m.Write([]byte("pomerium-server store encryption v1"))
	return m.Sum(nil)
}

// sealer encrypts secret fields with AES-256-GCM. The record's kind and ID
// are the additional data, so a sealed value copied into another record
// does not open.
type sealer struct{ aead cipher.AEAD }

const sealPrefix = "v1:"

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("store encryption key is %d bytes; want %d (store.DeriveKey of shared_secret)", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: g}, nil
}

func (s *sealer) seal(k Kind, id, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(string(k)+"/"+id))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

var errOpen = errors.New("cannot decrypt a stored secret: shared_secret differs from the one it was written with")

func (s *sealer) open(k Kind, id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b64, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", errors.New("stored secret is not encrypted (corrupt record)")
	}
	b, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("stored secret is malformed (corrupt record)")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(string(k)+"/"+id))
	if err != nil {
		return "", errOpen
	}
	return string(plain), nil
}

// HashSecret returns the stored form of an API user or service account
// secret. The secrets are 256-bit random tokens, so a plain SHA-256 cannot
// be brute-forced; a slow password hash would only cost every request.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(h[:])
}

// CheckSecret reports whether secret matches a HashSecret hash, in
// constant time.
func CheckSecret(hash, secret string) bool {
	want := HashSecret(secret)
	return len(hash) == len(want) && subtle.ConstantTimeCompare([]byte(hash), []byte(want)) == 1
}

// NewSecret returns a fresh random token for an API user or service
// account (shown to the user once; store only HashSecret of it).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
