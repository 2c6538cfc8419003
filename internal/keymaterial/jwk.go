package keymaterial

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
	"github.com/keyward/keyward/internal/errs"
)

// JWKAlgorithms lists the JWA algorithms a key may carry for a use ("sig"
// or "enc"), given its algorithm, size and curve.
func JWKAlgorithms(k Key, use string) []string {
	switch k.Algorithm {
	case RSA:
		if use == "enc" {
			return []string{"RSA-OAEP", "RSA-OAEP-256"}
		}
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case EC:
		if use == "enc" {
			return []string{"ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A256KW"}
		}
		return map[string][]string{"P-256": {"ES256"}, "P-384": {"ES384"}, "P-521": {"ES512"}}[k.Curve]
	case AES:
		if use == "enc" {
			kw := map[int]string{128: "A128KW", 192: "A192KW", 256: "A256KW"}[k.Bits]
			gcm := map[int]string{128: "A128GCMKW", 192: "A192GCMKW", 256: "A256GCMKW"}[k.Bits]
			return []string{kw, gcm, "dir"}
		}
		return hmacAlgs(k.Bits)
	}
	// DES and DESede have no JWA algorithm but HMAC over their bytes.
	if use == "enc" {
		return nil
	}
	return hmacAlgs(k.Bits)
}

// hmacAlgs lists the HS* algorithms a key of bits is long enough for
// (RFC 7518 3.2: the key must be at least the hash size).
func hmacAlgs(bits int) []string {
	var out []string
	for _, a := range []struct {
		name string
		min  int
	}{{"HS256", 256}, {"HS384", 384}, {"HS512", 512}} {
		if bits >= a.min {
			out = append(out, a.name)
		}
	}
	return out
}

// JWK builds the JSON Web Key of k. For RSA and EC keys it is always the
// public part, so it can be published; a secret key gives a "kty": "oct" JWK
// that holds the secret and must never be published. kid "" means the
// RFC 7638 SHA-256 thumbprint. The "use" and "alg" fields are checked
// against the key; the error names the field.
func JWK(k Key, kid, use, alg string) (jose.JSONWebKey, error) {
	if use != "sig" && use != "enc" {
		return jose.JSONWebKey{}, errs.FieldErrorf("use", "use %q must be sig or enc.", use)
	}
	allowed := JWKAlgorithms(k, use)
	if !slices.Contains(allowed, alg) {
		if len(allowed) == 0 {
			return jose.JSONWebKey{}, errs.FieldErrorf("use", "A %d-bit %s key has no JWA algorithm for use %q.", k.Bits, k.Algorithm, use)
		}
		return jose.JSONWebKey{}, errs.FieldErrorf("alg", "alg %q does not fit a %d-bit %s key for use %q; use one of %v.", alg, k.Bits, k.Algorithm, use, allowed)
	}
	var material any = k.Public
	if k.Type == SecretKey {
		material = k.Secret
	}
	j := jose.JSONWebKey{Key: material, Use: use, Algorithm: alg}
	if k.Certificate != nil {
		j.Certificates = append(append(j.Certificates, k.Certificate), k.Chain...)
		sum := sha256.Sum256(k.Certificate.Raw) // x5t#S256, which go-jose does not derive
		j.CertificateThumbprintSHA256 = sum[:]
	}
	if kid == "" {
		tp, err := thumbprint(j)
		if err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("jwk thumbprint: %w", err)
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	if len(kid) > 200 {
		return jose.JSONWebKey{}, errs.FieldErrorf("kid", "kid must be at most 200 characters.")
	}
	j.KeyID = kid
	// go-jose's Valid knows no symmetric keys; Parse checked their size.
	if k.Type != SecretKey && !j.Valid() {
		return jose.JSONWebKey{}, errs.FieldErrorf("sourceName", "The key cannot be expressed as a JWK.")
	}
	return j, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of j. go-jose computes it
// for RSA and EC keys only, so the oct form (members "k" and "kty", in that
// order) is built here.
func thumbprint(j jose.JSONWebKey) ([]byte, error) {
	if k, ok := j.Key.([]byte); ok {
		sum := sha256.Sum256([]byte(`{"k":"` + base64.RawURLEncoding.EncodeToString(k) + `","kty":"oct"}`))
		return sum[:], nil
	}
	return j.Thumbprint(crypto.SHA256)
}

// PublicMembers reports whether a JWK's JSON holds only public members:
// none of d, p, q, dp, dq, qi, k. Published JWKS pass through it.
func PublicMembers(raw []byte) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
		if _, ok := m[private]; ok {
			return false
		}
	}
	return true
}
