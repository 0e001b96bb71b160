package session

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Derive returns a 32-byte key for another use of the server's secret
// (label names the use), so that tokens of that use can never verify as
// sessions, nor sessions as them. Replicas sharing shared_secret derive
// the same key.
func (k *Keys) Derive(label string) []byte {
	m := hmac.New(sha256.New, k.hmacKey)
	m.Write([]byte("derive:" + label))
	return m.Sum(nil)
}
