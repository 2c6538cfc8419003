package certs_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/smallstep/pkcs7"
	"software.sslmate.com/src/go-pkcs12"
)

func TestParsePKCS7(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	chainPEM := writeFile(t, "chain.pem", certtest.PEM(c.Root, c.Leaf, c.Intermediate))
	// Written by OpenSSL, as DER and PEM, and by the exporter.
	derOut := filepath.Join(t.TempDir(), "chain.p7b")
	run(t, "openssl", "crl2pkcs7", "-nocrl", "-certfile", chainPEM, "-outform", "DER", "-out", derOut)
	der, err := os.ReadFile(derOut)
	if err != nil {
		t.Fatal(err)
	}
	pemText := []byte(run(t, "openssl", "crl2pkcs7", "-nocrl", "-certfile", chainPEM, "-outform", "PEM"))
	ours, err := certs.EncodePKCS7([]*x509.Certificate{c.Leaf, c.Intermediate})
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"openssl.p7b": der, "openssl.p7c": pemText, "OPENSSL.P7B": der,
		"p7-in-a.cer": der, "p7-in-a.pem": pemText,
	} {
		wantCerts(t, mustParse(t, name, content, "").Certificates, c.Leaf, c.Intermediate, c.Root)
	}
	wantCerts(t, mustParse(t, "ours.p7b", ours, "").Certificates, c.Leaf, c.Intermediate)
	// Pasted as base64 of the DER, the PKCS#7 is read as well.
	p, err := certs.Parse(certs.Input{Field: field, Encoding: certs.EncodingBase64, Content: []byte(pemBody(t, pemText))})
	if err != nil {
		t.Fatal(err)
	}
	wantCerts(t, p.Certificates, c.Leaf, c.Intermediate, c.Root)
}

// pemBody is the base64 of a PEM block's DER, as a user would paste it.
func pemBody(t *testing.T, text []byte) string {
	t.Helper()
	b, _ := pem.Decode(text)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return base64.StdEncoding.EncodeToString(b.Bytes)
}

func TestParsePKCS7Errors(t *testing.T) {
	empty, err := pkcs7.DegenerateCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseFile(t, "empty.p7b", empty)
	wantFieldError(t, err, "This PKCS#7 bundle holds no certificates.")
	_, err = parseFile(t, "empty.p7c", pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: empty}))
	wantFieldError(t, err, "This PKCS#7 bundle holds no certificates.")
	_, err = parseFile(t, "empty.cer", empty)
	wantFieldError(t, err, "This PKCS#7 bundle holds no certificates.")

	c := certtest.NewChain(t, certtest.Options{})
	_, err = parseFile(t, "leaf.p7b", c.Leaf.Raw)
	wantFieldError(t, err, "This is not a PKCS#7 bundle, or it is damaged or truncated.")
	ours, _ := certs.EncodePKCS7([]*x509.Certificate{c.Leaf})
	_, err = parseFile(t, "cut.p7b", ours[:len(ours)-20])
	wantFieldError(t, err, "This is not a PKCS#7 bundle, or it is damaged or truncated.")
	_, err = parseFile(t, "junk.p7b", []byte{0x30, 0x03, 0x02, 0x01, 0x01})
	wantFieldError(t, err, "This is not a PKCS#7 bundle")
	// Encrypted (enveloped) PKCS#7 is no certificate bundle.
	enc, err := pkcs7.Encrypt([]byte("secret"), []*x509.Certificate{certtest.NewChain(t, certtest.Options{Key: certtest.RSA}).Leaf})
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseFile(t, "enveloped.p7b", enc)
	wantFieldError(t, err, "holds no certificates")
}

func TestParsePKCS12(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	for name, enc := range map[string]*pkcs12.Encoder{"modern": pkcs12.Modern2023, "legacy RC2": pkcs12.LegacyRC2, "legacy DES": pkcs12.LegacyDES} {
		der, err := enc.Encode(c.LeafKey, c.Leaf, []*x509.Certificate{c.Root, c.Intermediate}, "s3cret")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, file := range []string{"id.p12", "id.pfx"} {
			p := mustParse(t, file, der, "s3cret")
			wantCerts(t, p.Certificates, c.Leaf, c.Intermediate, c.Root)
			if p.Notice != "The PKCS#12 file also held a private key; it was not stored here (keys live under Keys)." {
				t.Errorf("%s: notice = %q", name, p.Notice)
			}
		}
		_, err = certs.Parse(certs.Input{Field: field, FileName: "id.p12", Content: der, Password: "wrong"})
		wantFieldError(t, err, "The PKCS#12 password is wrong.")
		_, err = certs.Parse(certs.Input{Field: field, FileName: "id.p12", Content: der})
		wantFieldError(t, err, "The PKCS#12 password is wrong.")
	}

	// A truststore (certificates only), as TruststorePKCS12 and Java write it.
	ts, err := certs.TruststorePKCS12([]certs.NamedCert{{Alias: "root", Cert: c.Root}, {Alias: "inter", Cert: c.Intermediate}}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, "truststore.p12", ts, "changeit")
	wantCerts(t, p.Certificates, c.Intermediate, c.Root)
	if p.Notice != "" {
		t.Errorf("truststore notice = %q", p.Notice)
	}
	_, err = certs.Parse(certs.Input{Field: field, FileName: "truststore.p12", Content: ts, Password: "nope"})
	wantFieldError(t, err, "The PKCS#12 password is wrong.")
}

// TestParsePKCS12FromOpenSSL reads what `openssl pkcs12 -export` writes,
// with OpenSSL 3's default algorithms.
func TestParsePKCS12FromOpenSSL(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	dir := t.TempDir()
	leaf, key, chain := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "chain.pem")
	for p, data := range map[string][]byte{leaf: certtest.PEM(c.Leaf), key: c.LeafKeyPEM(t), chain: certtest.PEM(c.Intermediate, c.Root)} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "id.pfx")
	run(t, "openssl", "pkcs12", "-export", "-in", leaf, "-inkey", key, "-certfile", chain, "-passout", "pass:pfx-pass", "-out", out)
	der, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, "id.pfx", der, "pfx-pass")
	wantCerts(t, p.Certificates, c.Leaf, c.Intermediate, c.Root)
	if p.Notice == "" {
		t.Error("no notice about the private key")
	}
	_, err = certs.Parse(certs.Input{Field: field, FileName: "id.pfx", Content: der, Password: "pfx-pas"})
	wantFieldError(t, err, "The PKCS#12 password is wrong.")

	// Certificates without a key and without Java's trust mark (-nokeys):
	// go-pkcs12 has no reader for that layout, and the user is told what
	// to bring instead.
	run(t, "openssl", "pkcs12", "-export", "-nokeys", "-in", chain, "-passout", "pass:pfx-pass", "-out", out)
	if der, err = os.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	_, err = certs.Parse(certs.Input{Field: field, FileName: "cas.p12", Content: der, Password: "pfx-pass"})
	wantFieldError(t, err, "not marked as trusted, a layout Keyward cannot read; export the certificates as PEM or PKCS#7 instead.")
}

func TestParsePKCS12Errors(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	_, err := parseFile(t, "leaf.p12", c.Leaf.Raw)
	wantFieldError(t, err, "This is not a PKCS#12 file, or it is damaged or truncated.")
	_, err = parseFile(t, "leaf.pfx", certtest.PEM(c.Leaf))
	wantFieldError(t, err, "This is not a PKCS#12 file")
	der, err := pkcs12.Modern2023.Encode(c.LeafKey, c.Leaf, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	_, err = certs.Parse(certs.Input{Field: field, FileName: "cut.p12", Content: der[:len(der)/2], Password: "pw"})
	wantFieldError(t, err, "This is not a PKCS#12 file, or it is damaged or truncated.")
	// A PKCS#12 file named .der is recognised and the user told to rename it.
	_, err = parseFile(t, "id.der", der)
	wantFieldError(t, err, "This looks like a PKCS#12 file; upload it with a .p12 or .pfx name and its password.")
}
