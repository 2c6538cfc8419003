package keymaterial

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/keyward/keyward/internal/errs"
)

func looksLikePEM(b []byte) bool {
	return bytes.Contains(b, []byte("-----BEGIN "))
}

// blocks returns the DER blocks of content with their PEM types ("" for
// DER input). Encrypted PEM is refused with a hint.
func blocks(field string, b []byte) ([]*pem.Block, string, error) {
	if !looksLikePEM(b) {
		return []*pem.Block{{Bytes: b}}, "DER", nil
	}
	var out []*pem.Block
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return nil, "", errs.FieldErrorf(field, "The key content is an encrypted private key. Decrypt it first (openssl pkey -in key.pem -out plain.pem) and paste or upload the result; it is encrypted again at rest here.")
		}
		out = append(out, blk)
	}
	if len(out) == 0 {
		return nil, "", errs.FieldErrorf(field, "The key content looks like PEM but holds no valid PEM block (check the BEGIN/END lines and the base64 between them).")
	}
	return out, "PEM", nil
}

func parsePrivate(field string, alg Algorithm, b []byte) (Key, error) {
	bs, enc, err := blocks(field, b)
	if err != nil {
		return Key{}, err
	}
	for _, blk := range bs {
		if strings.Contains(blk.Type, "PUBLIC KEY") || blk.Type == "CERTIFICATE" {
			continue
		}
		priv, format, ok := parsePrivateDER(blk.Bytes)
		if !ok {
			continue
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return Key{}, errs.FieldErrorf(field, "The key content holds a %T key; only RSA and EC keys are supported.", priv)
		}
		k := Key{Type: PrivateKey, Format: format + " " + enc, Private: signer}
		if err := describePublic(field, alg, signer.Public(), &k); err != nil {
			return Key{}, err
		}
		return k, nil
	}
	if hasType(bs, "CERTIFICATE") || hasTypeSuffix(bs, "PUBLIC KEY") {
		return Key{}, errs.FieldErrorf(field, "The key content holds a public key or certificate, not a private key; choose the PUBLIC_KEY type for it.")
	}
	return Key{}, errs.FieldErrorf(field, "The key content is not an RSA or EC private key in PKCS#1, PKCS#8 or SEC1 form (PEM or DER).")
}

func parsePrivateDER(der []byte) (any, string, bool) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, "PKCS#8", true
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, "PKCS#1", true
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, "SEC1", true
	}
	return nil, "", false
}

func parsePublic(field string, alg Algorithm, b []byte) (Key, error) {
	bs, enc, err := blocks(field, b)
	if err != nil {
		return Key{}, err
	}
	for _, blk := range bs {
		k := Key{Type: PublicKey}
		var pub crypto.PublicKey
		if p, err := x509.ParsePKIXPublicKey(blk.Bytes); err == nil {
			pub, k.Format = p, "PKIX "+enc
		} else if p, err := x509.ParsePKCS1PublicKey(blk.Bytes); err == nil {
			pub, k.Format = p, "PKCS#1 "+enc
		} else if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			pub, k.Format, k.Certificate = c.PublicKey, "X.509 certificate "+enc, c
		} else {
			continue
		}
		if err := describePublic(field, alg, pub, &k); err != nil {
			return Key{}, err
		}
		return k, nil
	}
	if _, _, ok := parsePrivateDER(bs[0].Bytes); ok || hasTypeSuffix(bs, "PRIVATE KEY") {
		return Key{}, errs.FieldErrorf(field, "The key content is a private key; choose the PRIVATE_KEY type, or give only the public key.")
	}
	return Key{}, errs.FieldErrorf(field, "The key content is not an RSA or EC public key (PKIX or PKCS#1) or a certificate, in PEM or DER.")
}

func hasType(bs []*pem.Block, t string) bool {
	for _, b := range bs {
		if b.Type == t {
			return true
		}
	}
	return false
}

func hasTypeSuffix(bs []*pem.Block, suffix string) bool {
	for _, b := range bs {
		if strings.HasSuffix(b.Type, suffix) {
			return true
		}
	}
	return false
}
