package certfetch

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// testPKI is a root CA, an intermediate and a leaf for localhost and
// 127.0.0.1, made fresh for each test.
type testPKI struct {
	root, intermediate, leaf *x509.Certificate
	leafKey                  crypto.Signer
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	rootKey, root := issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Keyward Test Root CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}, nil, nil)
	interKey, inter := issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Keyward Test Issuing CA"}, IsCA: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}, root, rootKey)
	leafKey, leaf := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, inter, interKey)
	return &testPKI{root: root, intermediate: inter, leaf: leaf, leafKey: leafKey}
}

// issue signs tmpl with parentKey (self-signed when parent is nil).
func issue(t *testing.T, tmpl, parent *x509.Certificate, parentKey crypto.Signer) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// serverCert is what the test servers present: leaf, then intermediate.
func (p *testPKI) serverCert() tls.Certificate {
	return tls.Certificate{
		Certificate: [][]byte{p.leaf.Raw, p.intermediate.Raw},
		PrivateKey:  p.leafKey,
	}
}

// assertChain checks that got is the leaf followed by the intermediate.
func (p *testPKI) assertChain(t *testing.T, got []*x509.Certificate) {
	t.Helper()
	if len(got) != 2 {
		t.Fatalf("chain of %d certificates, want leaf and intermediate", len(got))
	}
	if !got[0].Equal(p.leaf) || got[0].Subject.CommonName != "localhost" {
		t.Errorf("first certificate %q, want the leaf", got[0].Subject)
	}
	if !got[1].Equal(p.intermediate) || got[1].Subject.CommonName != "Keyward Test Issuing CA" ||
		got[1].Issuer.CommonName != "Keyward Test Root CA" {
		t.Errorf("second certificate %q issued by %q, want the intermediate", got[1].Subject, got[1].Issuer)
	}
}
