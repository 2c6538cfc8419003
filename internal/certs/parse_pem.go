package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"

	"github.com/keyward/keyward/internal/errs"
)

// pemKinds says what each non-certificate PEM block type is, so that a user
// who picked the wrong file is told what it holds and where it belongs.
var pemKinds = map[string]string{
	"PRIVATE KEY":             msgPrivateKey,
	"RSA PRIVATE KEY":         msgPrivateKey,
	"EC PRIVATE KEY":          msgPrivateKey,
	"DSA PRIVATE KEY":         msgPrivateKey,
	"ENCRYPTED PRIVATE KEY":   msgPrivateKey,
	"OPENSSH PRIVATE KEY":     msgPrivateKey,
	"PUBLIC KEY":              "This is a public key, not a certificate; add public keys under Keys.",
	"RSA PUBLIC KEY":          "This is a public key, not a certificate; add public keys under Keys.",
	"CERTIFICATE REQUEST":     "This is a certificate signing request (CSR), not a certificate; import the certificate its CA returns.",
	"NEW CERTIFICATE REQUEST": "This is a certificate signing request (CSR), not a certificate; import the certificate its CA returns.",
	"X509 CRL":                "This is a certificate revocation list (CRL), not a certificate.",
}

// parsePEM reads every block of PEM text: CERTIFICATE blocks (and the
// X509 CERTIFICATE and OpenSSL TRUSTED CERTIFICATE variants) and PKCS7
// bundles. Any other block is refused rather than skipped: a private key in
// particular must not ride along into a certificate's configuration. Each
// block is decoded on its own, because pem.Decode silently skips a damaged
// block and goes on to the next.
func parsePEM(field string, data []byte) ([]*x509.Certificate, error) {
	segments := pemSegments(data)
	var certs []*x509.Certificate
	for i, seg := range segments {
		got, err := parsePEMBlock(field, seg)
		if err != nil {
			return nil, inBlock(err, i+1, len(segments))
		}
		certs = append(certs, got...)
	}
	return certs, nil
}

// pemSegments splits data at each BEGIN line, so that each piece holds one
// block and whatever text follows it.
func pemSegments(data []byte) [][]byte {
	begin := []byte("-----BEGIN ")
	var segs [][]byte
	start := bytes.Index(data, begin)
	for start >= 0 {
		next := bytes.Index(data[start+len(begin):], begin)
		if next < 0 {
			segs = append(segs, data[start:])
			break
		}
		end := start + len(begin) + next
		segs = append(segs, data[start:end])
		start = end
	}
	return segs
}

func parsePEMBlock(field string, seg []byte) ([]*x509.Certificate, error) {
	block, _ := pem.Decode(seg)
	if block == nil {
		return nil, errs.FieldErrorf(field, "The PEM text is damaged: its -----END line is missing or its base64 is invalid.")
	}
	if msg, ok := pemKinds[block.Type]; ok {
		return nil, errs.FieldErrorf(field, "%s", msg)
	}
	switch block.Type {
	case "CERTIFICATE", "X509 CERTIFICATE":
		return parseDER(field, block.Bytes)
	case "TRUSTED CERTIFICATE":
		return parseTrusted(field, block.Bytes)
	case "PKCS7", "CERTIFICATE CHAIN":
		return parsePKCS7(field, block.Bytes)
	default:
		return nil, errs.FieldErrorf(field, "The PEM block %q is not a certificate.", block.Type)
	}
}

// inBlock names the block an error is about when there are several.
func inBlock(err error, i, blocks int) error {
	e, ok := err.(*errs.Error)
	if !ok || blocks < 2 || e.Message == msgPrivateKey {
		return err
	}
	return errs.FieldErrorf(e.Field, "PEM block %d of %d: %s", i, blocks, e.Message)
}

// parseTrusted reads OpenSSL's TRUSTED CERTIFICATE block: a DER certificate
// followed by OpenSSL's own trust settings, which Keyward does not use.
func parseTrusted(field string, der []byte) ([]*x509.Certificate, error) {
	if n, _ := derLength(der); n > 0 {
		der = der[:n]
	}
	return parseDER(field, der)
}
