package certs

import (
	"crypto/x509"
	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// keyUsageBits names the key usage bits in lower camel case after Go's
// constants (x509.KeyUsageCertSign is "certSign"), the spelling Vault and
// the Go ecosystem use; RFC 5280 calls the same bits keyCertSign and cRLSign.
var keyUsageBits = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "contentCommitment"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "certSign"},
	{x509.KeyUsageCRLSign, "crlSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

// ekuNames are RFC 5280's names for the extended key usages Go
// knows (id-kp-serverAuth is "serverAuth"); any other shows as its OID.
var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:                            "any",
	x509.ExtKeyUsageServerAuth:                     "serverAuth",
	x509.ExtKeyUsageClientAuth:                     "clientAuth",
	x509.ExtKeyUsageCodeSigning:                    "codeSigning",
	x509.ExtKeyUsageEmailProtection:                "emailProtection",
	x509.ExtKeyUsageIPSECEndSystem:                 "ipsecEndSystem",
	x509.ExtKeyUsageIPSECTunnel:                    "ipsecTunnel",
	x509.ExtKeyUsageIPSECUser:                      "ipsecUser",
	x509.ExtKeyUsageTimeStamping:                   "timeStamping",
	x509.ExtKeyUsageOCSPSigning:                    "ocspSigning",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     "microsoftServerGatedCrypto",
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      "netscapeServerGatedCrypto",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "microsoftCommercialCodeSigning",
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     "microsoftKernelCodeSigning",
}

func keyUsageNames(ku x509.KeyUsage) []string {
	names := []string{}
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	return names
}

func extKeyUsageNames(c *x509.Certificate) []string {
	names := make([]string, 0, len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage))
	for _, u := range c.ExtKeyUsage {
		if n, ok := ekuNames[u]; ok {
			names = append(names, n)
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		names = append(names, oid.String())
	}
	return names
}

// signatureName is Go's name for c's signature algorithm ("SHA256-RSA",
// "ECDSA-SHA256"), or the algorithm's OID when Go does not know it, read
// from the certificate's signatureAlgorithm field.
func signatureName(c *x509.Certificate) string {
	if c.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return c.SignatureAlgorithm.String()
	}
	s := cryptobyte.String(c.Raw)
	var cert, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if s.ReadASN1(&cert, cbasn1.SEQUENCE) && cert.SkipASN1(cbasn1.SEQUENCE) &&
		cert.ReadASN1(&alg, cbasn1.SEQUENCE) && alg.ReadASN1ObjectIdentifier(&oid) {
		return "Unknown (" + oid.String() + ")"
	}
	return "Unknown"
}
