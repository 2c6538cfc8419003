package certs

// TEMPORARY: a minimal stand-in for the parsing and analysis the certs
// branch brings, so that the service can be built against the API. Deleted
// when that branch is merged.

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

func Parse(in Input) (Parsed, error) {
	var out Parsed
	rest := in.Content
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out, errs.FieldErrorf(in.Field, "Not a certificate: %v.", err)
		}
		out.Certificates = append(out.Certificates, c)
	}
	if len(out.Certificates) == 0 {
		c, err := x509.ParseCertificate(in.Content)
		if err != nil {
			return out, errs.FieldErrorf(in.Field, "This is not a certificate.")
		}
		out.Certificates = append(out.Certificates, c)
	}
	return out, nil
}

func Describe(c *x509.Certificate, now time.Time) Details {
	s1, s256 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw)
	return Details{Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber.Text(16),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: int(c.NotAfter.Sub(now).Hours() / 24),
		SHA1: hex.EncodeToString(s1[:]), SHA256: hex.EncodeToString(s256[:]), IsCA: c.IsCA,
		DNSNames: []string{}, IPAddresses: []string{}, Emails: []string{}, URIs: []string{}, KeyUsage: []string{}, ExtKeyUsage: []string{}}
}

func Analyze(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, host string, now time.Time) Analysis {
	a := Analysis{Findings: []Finding{}}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	for _, i := range intermediates {
		inter.AddCert(i)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err == nil && len(chains) > 0 {
		a.Trusted, a.AnchoredBy = true, chains[0][len(chains[0])-1].Subject.String()
		for _, c := range chains[0] {
			a.Chain = append(a.Chain, Describe(c, now))
		}
		return a
	}
	a.Findings = append(a.Findings, Finding{Severity: "error", Code: "unknown_authority", Message: "The chain does not lead to a CA in this environment's truststore."})
	a.Chain = []Details{Describe(leaf, now)}
	return a
}

func EncodePEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func BuiltinRoots() []*x509.Certificate { return nil }

func BuiltinRoot(sha256hex string) (*x509.Certificate, bool) { return nil, false }

type NamedCert struct {
	Alias string
	Cert  *x509.Certificate
}

type ZipFile struct {
	Name string
	Cert *x509.Certificate
}

func EncodePKCS7(certs []*x509.Certificate) ([]byte, error) {
	return nil, errs.Errorf(errs.Internal, "stub")
}
func ZipDER(files []ZipFile) ([]byte, error) { return nil, errs.Errorf(errs.Internal, "stub") }
func TruststoreJKS(certs []NamedCert, password string, created time.Time) ([]byte, error) {
	return nil, errs.Errorf(errs.Internal, "stub")
}
func TruststorePKCS12(certs []NamedCert, password string) ([]byte, error) {
	return nil, errs.Errorf(errs.Internal, "stub")
}
