package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// msgPrivateKey is the one message for a private key wherever it turns up:
// the certificates area stores public data only, and keys have their own.
const msgPrivateKey = "This is a private key; certificates hold only public data — add private keys under Keys."

// oidSignedData is the DER of PKCS#7 SignedData's content type,
// 1.2.840.113549.1.7.2, as it follows a ContentInfo's SEQUENCE header.
var oidSignedData = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

// parseDER reads one DER certificate, several concatenated ones, or a DER
// PKCS#7 bundle. It measures each element itself before parsing so that a
// cut-off file and bytes after the certificate get their own messages
// instead of Go's generic "malformed certificate".
func parseDER(field string, data []byte) ([]*x509.Certificate, error) {
	if isPKCS7(data) {
		return parsePKCS7(field, data)
	}
	var certs []*x509.Certificate
	for rest := data; len(rest) > 0; {
		n, declared := derLength(rest)
		switch {
		case n == 0 && len(certs) == 0:
			return nil, errs.FieldErrorf(field, "This is neither PEM nor DER; it holds no certificate.")
		case n == 0:
			return nil, errs.FieldErrorf(field, "The DER certificate is followed by %d bytes of other data; remove them or export the certificate again.", len(rest))
		case n < 0 && declared > 0:
			return nil, errs.FieldErrorf(field, "The DER data is truncated: the certificate should be %d bytes but only %d are there.", declared, len(rest))
		case n < 0:
			return nil, errs.FieldErrorf(field, "The DER data is truncated: it ends inside the certificate's header.")
		}
		elem := rest[:n]
		rest = rest[n:]
		c, err := x509.ParseCertificate(elem)
		if err != nil {
			if len(certs) > 0 && !certificateShaped(elem) {
				return nil, errs.FieldErrorf(field, "The DER certificate is followed by %d bytes of other data; remove them or export the certificate again.", len(elem)+len(rest))
			}
			return nil, notACertificate(field, elem, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// derLength returns the size of the DER SEQUENCE that starts data: 0 when
// data does not start with one, -1 with the declared size when data ends
// before the element does (declared is 0 when even the header is cut).
func derLength(data []byte) (n, declared int) {
	if len(data) < 2 || data[0] != 0x30 || data[1] == 0x80 || data[1] > 0x84 {
		return 0, 0
	}
	length, header := int(data[1]), 2
	if length > 0x80 {
		k := length & 0x7f
		if len(data) < 2+k {
			return -1, 0
		}
		length = 0
		for _, b := range data[2 : 2+k] {
			length = length<<8 | int(b)
		}
		header += k
	}
	if total := header + length; total <= len(data) {
		return total, total
	}
	return -1, header + length
}

// certificateShaped reports whether der has the outer shape of a
// certificate, SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING }, so that a
// refusal by crypto/x509 can be explained as such rather than as "not a
// certificate". CSRs and CRLs share the shape; callers test for them first.
func certificateShaped(der []byte) bool {
	s := cryptobyte.String(der)
	var outer cryptobyte.String
	return s.ReadASN1(&outer, cbasn1.SEQUENCE) && s.Empty() &&
		outer.SkipASN1(cbasn1.SEQUENCE) &&
		outer.SkipASN1(cbasn1.SEQUENCE) &&
		outer.SkipASN1(cbasn1.BIT_STRING) && outer.Empty()
}

// isPKCS7 reports whether data starts like a PKCS#7 SignedData ContentInfo
// (definite or BER indefinite length), the way .p7b files do.
func isPKCS7(data []byte) bool {
	if len(data) < 2 || data[0] != 0x30 {
		return false
	}
	header := 2
	if data[1] > 0x80 {
		header += int(data[1] & 0x7f)
	}
	return len(data) >= header && bytes.HasPrefix(data[header:], oidSignedData)
}

// isPFX reports whether der is shaped like a PKCS#12 PFX: SEQUENCE {
// INTEGER 3, SEQUENCE ... }.
func isPFX(der []byte) bool {
	s := cryptobyte.String(der)
	var outer cryptobyte.String
	var version int
	return s.ReadASN1(&outer, cbasn1.SEQUENCE) && outer.ReadASN1Integer(&version) && version == 3 &&
		outer.PeekASN1Tag(cbasn1.SEQUENCE)
}

// notACertificate says what a DER element that failed to parse as a
// certificate is instead, or why Go refused it.
func notACertificate(field string, der []byte, parseErr error) error {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return errs.FieldErrorf(field, msgPrivateKey)
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return errs.FieldErrorf(field, msgPrivateKey)
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return errs.FieldErrorf(field, msgPrivateKey)
	}
	if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		return errs.FieldErrorf(field, "This is a public key, not a certificate; add public keys under Keys.")
	}
	if _, err := x509.ParseCertificateRequest(der); err == nil {
		return errs.FieldErrorf(field, "This is a certificate signing request (CSR), not a certificate; import the certificate its CA returns.")
	}
	if _, err := x509.ParseRevocationList(der); err == nil {
		return errs.FieldErrorf(field, "This is a certificate revocation list (CRL), not a certificate.")
	}
	if isPFX(der) {
		return errs.FieldErrorf(field, "This looks like a PKCS#12 file; upload it with a .p12 or .pfx name and its password.")
	}
	if certificateShaped(der) {
		return refused(field, parseErr)
	}
	return errs.FieldErrorf(field, "This DER data is not a certificate.")
}

// refused explains an error of crypto/x509's certificate parser in a
// sentence: Go is stricter than OpenSSL and browsers on some points (RFC
// 5280's positive serial numbers, for one), so a certificate that opens
// elsewhere can still be refused here, and the user should know it is the
// certificate, not the upload, that is at fault.
func refused(field string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "negative serial number"):
		return errs.FieldErrorf(field, "Go's X.509 parser refuses this certificate because its serial number is negative, which RFC 5280 forbids (%s); ask its issuer for a certificate with a positive serial number.", msg)
	case strings.Contains(msg, "trailing data"):
		return errs.FieldErrorf(field, "The certificate holds extra bytes inside its encoding (%s); export it again.", msg)
	default:
		return errs.FieldErrorf(field, "Go's X.509 parser refuses this certificate (%s): it is malformed or uses an encoding Go does not support.", msg)
	}
}

// decodeBase64 reads base64 with any whitespace and optional padding, as
// `base64`, `certutil -encode` and copied web pages lay it out.
func decodeBase64(field string, text []byte) ([]byte, error) {
	clean := make([]byte, 0, len(text))
	for _, r := range string(text) {
		switch {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n':
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/', r == '=':
			clean = append(clean, byte(r))
		default:
			return nil, errs.FieldErrorf(field, "The text is not base64: it holds %q, which base64 does not use.", r)
		}
	}
	der, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(string(clean), "="))
	if err != nil || len(der) == 0 {
		return nil, errs.FieldErrorf(field, "The text is not valid base64: it is cut short or its padding is misplaced.")
	}
	return der, nil
}
