package certs

import (
	"bytes"
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// Describe is the parsed content of c as the wizard, the certificate page
// and the API show it, with DaysLeft counted from now. Lists are empty, not
// nil, so that JSON shows [] and templates need no nil checks.
func Describe(c *x509.Certificate, now time.Time) Details {
	d := Details{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		DaysLeft:           daysBetween(now, c.NotAfter),
		DNSNames:           nonNil(c.DNSNames),
		IPAddresses:        make([]string, 0, len(c.IPAddresses)),
		Emails:             nonNil(c.EmailAddresses),
		URIs:               make([]string, 0, len(c.URIs)),
		SignatureAlgorithm: signatureName(c),
		KeyUsage:           keyUsageNames(c.KeyUsage),
		ExtKeyUsage:        extKeyUsageNames(c),
		IsCA:               c.BasicConstraintsValid && c.IsCA,
		MaxPathLen:         maxPathLen(c),
		SubjectKeyID:       hex.EncodeToString(c.SubjectKeyId),
		AuthorityKeyID:     hex.EncodeToString(c.AuthorityKeyId),
		SelfSigned:         selfSigned(c),
	}
	if c.SerialNumber != nil {
		d.Serial = c.SerialNumber.Text(16)
	}
	for _, ip := range c.IPAddresses {
		d.IPAddresses = append(d.IPAddresses, ip.String())
	}
	for _, u := range c.URIs {
		d.URIs = append(d.URIs, u.String())
	}
	d.PublicKeyAlgorithm, d.KeyBits, d.Curve = publicKeyInfo(c)
	sum1, sum256 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw)
	d.SHA1, d.SHA256 = hex.EncodeToString(sum1[:]), hex.EncodeToString(sum256[:])
	return d
}

// daysBetween is floor((to-from)/24h), computed on Unix seconds because a
// time.Duration saturates at 292 years and certificates may run to 9999.
func daysBetween(from, to time.Time) int {
	secs := to.Unix() - from.Unix()
	if to.Nanosecond() < from.Nanosecond() {
		secs-- // the fraction left is below one second and cannot cross a day
	}
	days := secs / 86400
	if secs%86400 < 0 {
		days--
	}
	return int(days)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// publicKeyInfo names c's key algorithm with its size or curve.
func publicKeyInfo(c *x509.Certificate) (alg string, bits int, curve string) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen(), ""
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519", 256, ""
	case *ecdh.PublicKey:
		return "X25519", 256, ""
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen(), ""
	}
	return "Unknown", 0, ""
}

// selfSigned reports whether c names itself as issuer and its signature
// checks with its own key. It uses CheckSignature, not CheckSignatureFrom,
// because a self-signed server certificate without the CA flag is still
// self-signed; MD5 signatures, which crypto/x509 no longer checks, are
// checked by hand (see signatureChecks).
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && signatureChecks(c, c)
}

// maxPathLen is -1 unless c is a CA with a path length limit.
func maxPathLen(c *x509.Certificate) int {
	if !c.BasicConstraintsValid || !c.IsCA {
		return -1
	}
	if c.MaxPathLen > 0 || c.MaxPathLen == 0 && c.MaxPathLenZero {
		return c.MaxPathLen
	}
	return -1
}
