// Package randtoken makes the random values Keyward hands out (API and
// gateway tokens, session ids, setup links, webhook secrets) and the hash
// under which those that authenticate are stored.
package randtoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// New returns n random bytes as unpadded base64url text.
func New(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 of a token. Tokens are high-entropy random
// values, so a fast hash is enough: there is nothing to brute-force.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
