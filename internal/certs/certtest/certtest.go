// Package certtest makes X.509 certificates for tests: a root → intermediate
// → leaf chain with ECDSA or RSA keys, and the odd certificates chain
// analysis must recognise (expired, not yet valid, SHA-1 or MD5 signed, a
// small RSA key, a CA flag on the leaf, self-signed, a negative serial).
// The certificates area's tests, its TLS test servers and the handler tests
// all share it, so every certificate is made in process, at test time, and
// nothing depends on files that expire.
package certtest

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// KeyType is the kind of key a chain is made with.
type KeyType int

// Key types.
const (
	ECDSA KeyType = iota // P-256: fast, the default
	RSA                  // 2048 bits unless Options.LeafRSABits says otherwise for the leaf
)

// Options shape a chain. The zero value gives a valid ECDSA chain whose leaf
// is for localhost, 127.0.0.1 and ::1, valid from an hour before now for 90
// days; the root (10 years) and the intermediate (5 years) became valid a
// year before now, so that they cover an expired leaf too.
type Options struct {
	Key         KeyType
	LeafRSABits int // with Key RSA: the leaf's key size (1024 for a weak key); 2048 by default

	CommonName     string // the leaf's; "localhost" by default
	DNSNames       []string
	IPAddresses    []net.IP
	EmailAddresses []string
	URIs           []*url.URL // with all four empty: localhost, 127.0.0.1, ::1

	Now         time.Time // the moment validity is set around; time.Now() by default
	Expired     bool      // the leaf expired a day before Now
	NotYetValid bool      // the leaf becomes valid a day after Now

	// LeafSignature is the leaf's signature algorithm, e.g. x509.SHA1WithRSA
	// or x509.ECDSAWithSHA1 (which Go signs) or x509.MD5WithRSA (which
	// Go refuses to sign, so the leaf is re-signed by hand). It must suit
	// the issuer's key: RSA algorithms need Key RSA.
	LeafSignature x509.SignatureAlgorithm

	LeafCA     bool // the leaf carries basic constraints CA:TRUE
	SelfSigned bool // the leaf is self-signed; Root and Intermediate are nil
}

// Chain is a made chain with its private keys.
type Chain struct {
	Root, Intermediate, Leaf          *x509.Certificate
	RootKey, IntermediateKey, LeafKey crypto.Signer
}

// Certificates are the chain leaf first, as a TLS server sends it plus its
// root.
func (c Chain) Certificates() []*x509.Certificate {
	out := []*x509.Certificate{c.Leaf}
	for _, x := range []*x509.Certificate{c.Intermediate, c.Root} {
		if x != nil {
			out = append(out, x)
		}
	}
	return out
}

// TLSCertificate is the leaf with its intermediate and key, ready for a
// tls.Config of a test server.
func (c Chain) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.LeafKey, Leaf: c.Leaf}
	if c.Intermediate != nil {
		tc.Certificate = append(tc.Certificate, c.Intermediate.Raw)
	}
	return tc
}

// RootPool is a pool holding the root (the leaf itself when self-signed),
// for a test client's tls.Config.
func (c Chain) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if c.Root != nil {
		pool.AddCert(c.Root)
	} else {
		pool.AddCert(c.Leaf)
	}
	return pool
}

// LeafKeyPEM is the leaf's private key as a PKCS#8 PEM block.
func (c Chain) LeafKeyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.LeafKey)
	if err != nil {
		t.Fatalf("certtest: marshal leaf key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PEM encodes certs as CERTIFICATE blocks.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// chainSeq numbers chains so that no two in a process share subject names:
// a leaf must never verify against another chain's CA by accident.
var chainSeq atomic.Int64

// NewChain makes a root, an intermediate and a leaf as opts say.
func NewChain(t testing.TB, opts Options) Chain {
	t.Helper()
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	n := chainSeq.Add(1)
	var c Chain
	rootKey, interKey, leafKey := chainKeys(t, opts)
	c.LeafKey = leafKey
	leaf := leafTemplate(opts, now, n)
	if opts.SelfSigned {
		c.Leaf = Issue(t, leaf, nil, c.LeafKey, c.LeafKey.Public())
	} else {
		c.RootKey, c.IntermediateKey = rootKey, interKey
		root := CATemplate(fmt.Sprintf("Keyward Test Root CA %d", n), now.AddDate(-1, 0, 0), now.AddDate(10, 0, 0))
		c.Root = Issue(t, root, nil, c.RootKey, c.RootKey.Public())
		inter := CATemplate(fmt.Sprintf("Keyward Test Intermediate CA %d", n), now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
		inter.MaxPathLen, inter.MaxPathLenZero = 0, true
		c.Intermediate = Issue(t, inter, c.Root, c.RootKey, c.IntermediateKey.Public())
		c.Leaf = Issue(t, leaf, c.Intermediate, c.IntermediateKey, c.LeafKey.Public())
	}
	if opts.LeafSignature == x509.MD5WithRSA {
		signer := c.IntermediateKey
		if opts.SelfSigned {
			signer = c.LeafKey
		}
		c.Leaf = parse(t, Resign(t, c.Leaf.Raw, signer, x509.MD5WithRSA, nil))
	}
	return c
}

func leafTemplate(opts Options, now time.Time, n int64) *x509.Certificate {
	cn := opts.CommonName
	if cn == "" {
		cn = "localhost"
	}
	tmpl := &x509.Certificate{
		Subject:        pkix.Name{CommonName: cn, Organization: []string{fmt.Sprintf("Keyward Test %d", n)}},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.AddDate(0, 0, 90),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:       opts.DNSNames,
		IPAddresses:    opts.IPAddresses,
		EmailAddresses: opts.EmailAddresses,
		URIs:           opts.URIs,

		BasicConstraintsValid: true,
		IsCA:                  opts.LeafCA,
	}
	if opts.Key == RSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if opts.LeafCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if len(opts.DNSNames)+len(opts.IPAddresses)+len(opts.EmailAddresses)+len(opts.URIs) == 0 {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	switch {
	case opts.Expired:
		tmpl.NotBefore, tmpl.NotAfter = now.AddDate(0, 0, -90), now.AddDate(0, 0, -1)
	case opts.NotYetValid:
		tmpl.NotBefore, tmpl.NotAfter = now.AddDate(0, 0, 1), now.AddDate(0, 0, 90)
	}
	if opts.LeafSignature != x509.MD5WithRSA {
		tmpl.SignatureAlgorithm = opts.LeafSignature
	}
	return tmpl
}

// CATemplate is a template for a CA certificate named cn.
func CATemplate(cn string, notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Keyward Test"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// Issue signs tmpl for pub with parentKey; a nil parent makes it
// self-signed. A random serial and a subject key id are filled in when the
// template has none.
func Issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if tmpl.SerialNumber == nil {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
		if err != nil {
			t.Fatalf("certtest: serial: %v", err)
		}
		tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	}
	if tmpl.SubjectKeyId == nil {
		spki, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatalf("certtest: marshal public key: %v", err)
		}
		sum := sha1.Sum(spki)
		tmpl.SubjectKeyId = sum[:]
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("certtest: create certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	return parse(t, der)
}

func parse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certtest: parse certificate: %v", err)
	}
	return c
}
