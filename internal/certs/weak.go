package certs

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
)

// weakHash names the broken hash in a signature algorithm, or "" when the
// hash is sound. Collisions for MD5 and SHA-1 are practical, so a CA's
// signature over either proves little; browsers and crypto/x509's Verify
// refuse both.
func weakHash(alg x509.SignatureAlgorithm) string {
	switch alg {
	case x509.MD2WithRSA:
		return "MD2"
	case x509.MD5WithRSA:
		return "MD5"
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return "SHA-1"
	}
	return ""
}

// rsaBits is the size of c's RSA key, or 0 when it has another kind.
func rsaBits(c *x509.Certificate) int {
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok {
		return k.N.BitLen()
	}
	return 0
}

// signatureChecks reports whether child's signature verifies with parent's
// key, whatever parent's CA flag says (self-signed server certificates have
// none). crypto/x509 still checks SHA-1 here; MD5, which it refuses
// outright, is checked by hand so that an old self-signed MD5 certificate
// is still recognised as self-signed.
func signatureChecks(child, parent *x509.Certificate) bool {
	if child.SignatureAlgorithm == x509.MD5WithRSA {
		k, ok := parent.PublicKey.(*rsa.PublicKey)
		if !ok {
			return false
		}
		sum := md5.Sum(child.RawTBSCertificate)
		return rsa.VerifyPKCS1v15(k, crypto.MD5, sum[:], child.Signature) == nil
	}
	return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}
