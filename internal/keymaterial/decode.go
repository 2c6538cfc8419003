package keymaterial

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// DecodePasted turns text pasted into a form into material for a key of
// type t. PEM text stays text. A secret key is raw bytes, so it is pasted
// as hex or base64 and decoded here; an RSA or EC key pasted as base64 DER
// is decoded too. Text that fits no encoding is returned as typed, so that
// Parse reports what is wrong with it (its size, or that it is no key).
func DecodePasted(t Type, text string) []byte {
	trimmed := strings.TrimSpace(text)
	if looksLikePEM([]byte(trimmed)) {
		return []byte(trimmed + "\n")
	}
	if t == SecretKey {
		if b, err := hex.DecodeString(trimmed); err == nil {
			return b
		}
	}
	if b, err := DecodeBase64(trimmed); err == nil && len(b) > 0 {
		return b
	}
	if t == SecretKey {
		return []byte(trimmed)
	}
	return []byte(trimmed + "\n")
}

// DecodeBase64 accepts standard or URL-safe base64, padded or not, with
// line breaks and spaces (as `base64` and `certutil -encode` print it).
func DecodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
