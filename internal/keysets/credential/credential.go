// Package credential makes and checks the credential values key sets hand
// out, in the format of GitHub's tokens: a prefix naming the kind
// ("kw_ak_" for an API key, "kw_ci_" for a client id, "kw_cs_" for a client
// secret), 32 random base62 characters, and the CRC32 of everything before
// it in 6 base62 characters. A secret scanner finds them by their prefix;
// Check rejects a mistyped value before any lookup.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
)

// Kind is what a value is; its short name is part of the prefix.
type Kind string

// The kinds of value.
const (
	APIKey       Kind = "ak"
	ClientID     Kind = "ci"
	ClientSecret Kind = "cs"
)

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomLen   = 32
	checksumLen = 6
	prefixLen   = len("kw_ak_")
	// Len is the length of every value.
	Len = prefixLen + randomLen + checksumLen
)

// Prefix is the prefix of values of kind k.
func (k Kind) Prefix() string { return "kw_" + string(k) + "_" }

// New returns a fresh random value of kind k.
func New(k Kind) string {
	var b strings.Builder
	b.Grow(Len)
	b.WriteString(k.Prefix())
	max := big.NewInt(int64(len(alphabet)))
	for range randomLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	b.WriteString(checksum(b.String()))
	return b.String()
}

// checksum is the CRC32 (IEEE) of s in base62, left-padded to 6 characters.
func checksum(s string) string {
	n := uint64(crc32.ChecksumIEEE([]byte(s)))
	out := make([]byte, checksumLen)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return string(out)
}

// Errors Check returns.
var (
	ErrPrefix   = errors.New("the value does not start with a Keyward credential prefix")
	ErrLength   = errors.New("the value does not have the length of a Keyward credential")
	ErrChars    = errors.New("the value holds characters a Keyward credential never has")
	ErrChecksum = errors.New("the value's checksum does not match: it was mistyped or truncated")
)

// Check tells whether value is well formed and of kind k: its prefix, its
// length, its characters and its checksum. It reads nothing else.
func Check(value string, k Kind) error {
	if !strings.HasPrefix(value, k.Prefix()) {
		return ErrPrefix
	}
	if len(value) != Len {
		return ErrLength
	}
	for i := prefixLen; i < Len; i++ {
		if strings.IndexByte(alphabet, value[i]) < 0 {
			return ErrChars
		}
	}
	if checksum(value[:Len-checksumLen]) != value[Len-checksumLen:] {
		return ErrChecksum
	}
	return nil
}

// Hash is the SHA-256 under which a value is stored and looked up.
func Hash(value string) [32]byte { return sha256.Sum256([]byte(value)) }

// Display is what lists and logs show of a value: its prefix, an ellipsis
// and its last four characters ("kw_ak_…x9Qz").
func Display(value string) string {
	if len(value) < prefixLen+4 {
		return "…"
	}
	return value[:prefixLen] + "…" + value[len(value)-4:]
}
