package certs

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"
)

// newFinding builds a Finding about c with a formatted message.
func newFinding(severity, code string, c *x509.Certificate, format string, args ...any) Finding {
	return Finding{Severity: severity, Code: code, Message: fmt.Sprintf(format, args...), Subject: c.Subject.String()}
}

// timeFindings flags a certificate outside its validity period at now.
// Either is fatal: Verify checks every certificate of the chain.
func timeFindings(c *x509.Certificate, now time.Time) []Finding {
	const layout = "2006-01-02 15:04 UTC"
	switch {
	case now.After(c.NotAfter):
		return []Finding{newFinding(SeverityError, "expired", c, "The certificate %q expired on %s.", c.Subject.String(), c.NotAfter.UTC().Format(layout))}
	case now.Before(c.NotBefore):
		return []Finding{newFinding(SeverityError, "not_yet_valid", c, "The certificate %q is not valid before %s.", c.Subject.String(), c.NotBefore.UTC().Format(layout))}
	}
	return nil
}

// weaknessFindings flags broken signature hashes and small RSA keys on the
// chain. A signature is fatal where Verify checks it, that is on every
// certificate but a self-issued one: the trust anchor's own signature is
// never checked, so on a root (or a self-signed leaf) it is a warning, and
// only on the leaf, the one certificate the user stores.
func weaknessFindings(leaf *x509.Certificate, chain []*x509.Certificate) []Finding {
	var out []Finding
	for _, c := range chain {
		if hash := weakHash(c.SignatureAlgorithm); hash != "" {
			switch {
			case !isSelfIssued(c):
				out = append(out, newFinding(SeverityError, "weak_signature", c, "The certificate %q is signed with %s (%s), which is broken for signatures; Go, browsers and current Java refuse it.", c.Subject.String(), hash, c.SignatureAlgorithm))
			case c == leaf || leaf.Equal(c):
				out = append(out, newFinding(SeverityWarning, "weak_signature", c, "The certificate %q is self-signed with %s (%s); tools that check a self-signature refuse %s.", c.Subject.String(), hash, c.SignatureAlgorithm, hash))
			}
		}
		if bits := rsaBits(c); bits > 0 && bits < 2048 {
			out = append(out, newFinding(SeverityWarning, "weak_key", c, "The certificate %q has a %d-bit RSA key; keys under 2048 bits are too weak and current browsers and TLS libraries refuse them.", c.Subject.String(), bits))
		}
	}
	return out
}

// leafFindings are about the stored certificate alone: it should not be a
// CA (the caller decides whether that matters, storing a CA on purpose is
// allowed), whether it is self-signed, and whether it covers host.
func leafFindings(leaf *x509.Certificate, host string) []Finding {
	var out []Finding
	if leaf.BasicConstraintsValid && leaf.IsCA {
		out = append(out, newFinding(SeverityWarning, "ca_leaf", leaf, "The certificate is a CA certificate (basic constraints CA:TRUE); a server or client certificate should not be one."))
	}
	if selfSigned(leaf) {
		out = append(out, newFinding(SeverityWarning, "self_signed", leaf, "The certificate is self-signed: only its own key vouches for it, so clients trust it only if it is in their truststore."))
	}
	if host = hostOnly(host); host != "" {
		if err := leaf.VerifyHostname(host); err != nil {
			out = append(out, newFinding(SeverityWarning, "hostname_mismatch", leaf, "The certificate does not cover %s: %s.", host, covers(leaf)))
		}
	}
	return out
}

// hostOnly drops a port from host ("example.com:8443", "[::1]:636").
func hostOnly(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// covers says which names a certificate is valid for.
func covers(c *x509.Certificate) string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) > 0 {
		return "it is for " + strings.Join(names, ", ")
	}
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("it names no DNS name or IP address, only the common name %q, which clients ignore", c.Subject.CommonName)
	}
	return "it names no DNS name or IP address"
}

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
