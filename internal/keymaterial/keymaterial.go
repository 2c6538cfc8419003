// Package keymaterial parses and validates the material of a key against its
// declared type and algorithm: raw bytes for secret keys (AES, DES, DESede),
// PKCS#1, PKCS#8, SEC1 or PKIX keys in PEM or DER for RSA and EC, and a
// certificate as the source of a public key. It has no state and no I/O.
package keymaterial

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/errs"
)

// Type is a key's type.
type Type string

// The key types.
const (
	SecretKey  Type = "SECRET_KEY"
	PrivateKey Type = "PRIVATE_KEY"
	PublicKey  Type = "PUBLIC_KEY"
)

// Types lists the key types in display order.
var Types = []Type{SecretKey, PrivateKey, PublicKey}

// Algorithm is a key's algorithm.
type Algorithm string

// The algorithms. EC is Keyward's addition to the seed's RSA.
const (
	AES    Algorithm = "AES"
	DES    Algorithm = "DES"
	DESede Algorithm = "DESede"
	RSA    Algorithm = "RSA"
	EC     Algorithm = "EC"
)

// AlgorithmsFor lists the algorithms a key type allows.
func AlgorithmsFor(t Type) []Algorithm {
	if t == SecretKey {
		return []Algorithm{AES, DES, DESede}
	}
	return []Algorithm{RSA, EC}
}

// MaxContent is the largest key content accepted (64 KiB).
const MaxContent = 64 << 10

// Key is validated key material and what is known about it.
type Key struct {
	Type        Type
	Algorithm   Algorithm
	Bits        int               // key size in bits
	Curve       string            // EC curve name, e.g. "P-256"
	Fingerprint string            // SHA-256, hex; of the public key's PKIX DER for RSA/EC, of the bytes for secret keys
	Format      string            // what was given: "raw", "PKCS#1 PEM", "PKCS#8 DER", "X.509 certificate PEM", ...
	Warning     string            // e.g. weak RSA size; shown but accepted
	Secret      []byte            // secret keys only
	Private     crypto.Signer     // private keys only
	Public      crypto.PublicKey  // RSA/EC keys (for a private key, its public half)
	Certificate *x509.Certificate // when a public key was taken from a certificate
	// Chain holds the certificates that issued Certificate, nearest first,
	// for a JWK's x5c.
	Chain []*x509.Certificate
}

// FromCertificate is the public key of a certificate (and the chain that
// issued it) as key material, for JWKs made from a certificate.
func FromCertificate(field string, c *x509.Certificate, chain []*x509.Certificate) (Key, error) {
	k := Key{Type: PublicKey, Format: "X.509 certificate", Certificate: c, Chain: chain}
	if err := describePublic(field, "", c.PublicKey, &k); err != nil {
		return Key{}, err
	}
	return k, nil
}

// ParseType validates a key type name.
func ParseType(field, s string) (Type, error) {
	for _, t := range Types {
		if string(t) == s {
			return t, nil
		}
	}
	return "", errs.FieldErrorf(field, "%q is not a key type: use SECRET_KEY, PRIVATE_KEY or PUBLIC_KEY.", s)
}

// ParseAlgorithm validates an algorithm for a type; "" means "infer it".
func ParseAlgorithm(field string, t Type, s string) (Algorithm, error) {
	if s == "" {
		return "", nil
	}
	for _, a := range AlgorithmsFor(t) {
		if strings.EqualFold(string(a), s) {
			return a, nil
		}
	}
	names := make([]string, 0, 3)
	for _, a := range AlgorithmsFor(t) {
		names = append(names, string(a))
	}
	return "", errs.FieldErrorf(field, "%q is not valid for a %s: use %s.", s, t, strings.Join(names, ", "))
}

// Parse validates content as a key of type t and algorithm alg ("" to infer
// it from the material). field names the input in error messages, e.g.
// "cryptoKeyInfoEnvironmentList[1].content".
func Parse(field string, t Type, alg Algorithm, content []byte) (Key, error) {
	if len(content) == 0 {
		return Key{}, errs.FieldErrorf(field, "The key content is empty.")
	}
	if len(content) > MaxContent {
		return Key{}, errs.FieldErrorf(field, "The key content is %d bytes; the limit is %d bytes (64 KiB).", len(content), MaxContent)
	}
	switch t {
	case SecretKey:
		return parseSecret(field, alg, content)
	case PrivateKey:
		return parsePrivate(field, alg, content)
	case PublicKey:
		return parsePublic(field, alg, content)
	}
	return Key{}, errs.FieldErrorf(field, "unknown key type %q.", t)
}

func parseSecret(field string, alg Algorithm, b []byte) (Key, error) {
	if looksLikePEM(b) {
		return Key{}, errs.FieldErrorf(field, "The key content is PEM text, but a secret key is raw key bytes (16, 24 or 32 for AES, 8 for DES, 16 or 24 for DESede).")
	}
	n := len(b)
	if alg == "" {
		switch n {
		case 16, 24, 32:
			alg = AES // a 24-byte key is AES unless DESede is asked for
		case 8:
			alg = DES
		default:
			return Key{}, errs.FieldErrorf(field, "The key content is %d bytes, which fits no secret key algorithm (AES: 16, 24 or 32; DES: 8; DESede: 16 or 24).", n)
		}
	}
	valid := map[Algorithm][]int{AES: {16, 24, 32}, DES: {8}, DESede: {16, 24}}[alg]
	ok := false
	for _, v := range valid {
		ok = ok || v == n
	}
	if !ok {
		return Key{}, errs.FieldErrorf(field, "The key content is %d bytes, but %s key must be %s bytes.", n, WithArticle(alg), sizes(valid))
	}
	k := Key{Type: SecretKey, Algorithm: alg, Bits: n * 8, Format: "raw", Secret: append([]byte(nil), b...)}
	if alg == DES {
		k.Warning = "DES keys are weak (56-bit); use AES where the gateway allows it."
	}
	return k, nil
}

func sizes(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// describePublic fills algorithm, size, curve, fingerprint and a size
// warning for an RSA or EC public key; RSA below 1024 bits is refused.
func describePublic(field string, want Algorithm, pub crypto.PublicKey, k *Key) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.Algorithm, k.Bits = RSA, p.N.BitLen()
		if k.Bits < 1024 {
			return errs.FieldErrorf(field, "The key content is a %d-bit RSA key; keys below 1024 bits are refused.", k.Bits)
		}
		if k.Bits < 2048 {
			k.Warning = fmt.Sprintf("This %d-bit RSA key is weak; use 2048 bits or more.", k.Bits)
		}
	case *ecdsa.PublicKey:
		k.Algorithm, k.Bits, k.Curve = EC, p.Curve.Params().BitSize, p.Curve.Params().Name
	default:
		return errs.FieldErrorf(field, "The key content holds a %T key; only RSA and EC keys are supported.", pub)
	}
	if want != "" && want != k.Algorithm {
		return errs.FieldErrorf(field, "The key content is %s key, but the algorithm is %s.", WithArticle(k.Algorithm), want)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return errs.FieldErrorf(field, "The public key cannot be encoded: %v.", err)
	}
	sum := sha256.Sum256(der)
	k.Public, k.Fingerprint = pub, hex.EncodeToString(sum[:])
	return nil
}

// WithArticle returns the algorithm with its indefinite article, for
// messages: "an AES", "a DES", "an RSA", "an EC".
func WithArticle(a Algorithm) string {
	switch a {
	case AES, RSA, EC:
		return "an " + string(a)
	}
	return "a " + string(a)
}
