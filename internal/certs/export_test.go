package certs_test

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
)

// opensslSubject is how `openssl x509 -subject` prints a certtest subject
// ("subject=O = Keyward Test 3, CN = localhost"), in the order of its DER.
func opensslSubject(cn, o string) string {
	return "subject=O = " + o + ", CN = " + cn
}

func TestEncodePEMAndDER(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	o := c.Leaf.Subject.Organization[0]
	pemFile := writeFile(t, "chain.pem", certs.EncodePEM(c.Leaf, c.Intermediate))
	wantContains(t, run(t, "openssl", "x509", "-in", pemFile, "-noout", "-subject"), opensslSubject("localhost", o))
	out := run(t, "openssl", "storeutl", "-noout", "-certs", pemFile)
	wantContains(t, out, "Total found: 2")
	derFile := writeFile(t, "leaf.cer", c.Leaf.Raw)
	wantContains(t, run(t, "openssl", "x509", "-inform", "DER", "-in", derFile, "-noout", "-subject"), opensslSubject("localhost", o))
	if len(certs.EncodePEM()) != 0 {
		t.Error("EncodePEM of nothing is not empty")
	}
}

func TestEncodePKCS7(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	der, err := certs.EncodePKCS7([]*x509.Certificate{c.Leaf, c.Intermediate, c.Root})
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, "openssl", "pkcs7", "-print_certs", "-inform", "DER", "-in", writeFile(t, "chain.p7b", der), "-noout")
	subjects := regexp.MustCompile(`(?m)^subject=.*$`).FindAllString(out, -1)
	want := []string{
		opensslSubject("localhost", c.Leaf.Subject.Organization[0]),
		opensslSubject(c.Intermediate.Subject.CommonName, "Keyward Test"),
		opensslSubject(c.Root.Subject.CommonName, "Keyward Test"),
	}
	if strings.Join(subjects, "\n") != strings.Join(want, "\n") {
		t.Fatalf("openssl pkcs7 -print_certs:\n%s\nwant subjects %q", out, want)
	}
	if _, err := certs.EncodePKCS7(nil); err == nil {
		t.Error("EncodePKCS7 of nothing succeeded")
	}
}

func truststoreEntries(t *testing.T) (certtest.Chain, certtest.Chain, []certs.NamedCert) {
	a := certtest.NewChain(t, certtest.Options{})
	b := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	return a, b, []certs.NamedCert{
		{Alias: "Acme Root", Cert: a.Root},
		{Alias: "acme root", Cert: b.Root},             // the same alias once lower-cased
		{Alias: "", Cert: b.Intermediate},              // none: the common name
		{Alias: "  Partner-CA ", Cert: a.Intermediate}, // trimmed
	}
}

var wantAliases = []string{"acme root", "acme root-2", "keyward test intermediate ca", "partner-ca"}

func TestTruststoreJKS(t *testing.T) {
	_, b, entries := truststoreEntries(t)
	created := time.Date(2026, time.February, 3, 4, 5, 6, 0, time.UTC)
	jks, err := certs.TruststoreJKS(entries, "changeit", created)
	if err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, "truststore.jks", jks)
	out := run(t, "keytool", "-list", "-keystore", f, "-storepass", "changeit")
	wantContains(t, out, "Keystore type: JKS", "Your keystore contains 4 entries")
	for _, alias := range wantAliases {
		if strings.HasPrefix(alias, "keyward test intermediate ca") {
			alias = strings.ToLower(b.Intermediate.Subject.CommonName)
		}
		wantContains(t, out, alias+", Feb 3, 2026, trustedCertEntry,")
	}
	verbose := run(t, "keytool", "-list", "-v", "-keystore", f, "-storepass", "changeit", "-alias", "acme root-2")
	wantContains(t, verbose, "Owner: CN="+b.Root.Subject.CommonName+", O=Keyward Test", "Entry type: trustedCertEntry")
	if out, err := runErr(t, "keytool", "-list", "-keystore", f, "-storepass", "wrong-pass"); err == nil {
		t.Errorf("keytool opened the JKS with a wrong password:\n%s", out)
	}
}

func TestTruststorePKCS12(t *testing.T) {
	a, b, entries := truststoreEntries(t)
	p12, err := certs.TruststorePKCS12(entries, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, "truststore.p12", p12)
	// OpenSSL 3 reads it without -legacy: the algorithms are modern.
	out := run(t, "openssl", "pkcs12", "-info", "-nokeys", "-in", f, "-passin", "pass:changeit")
	wantContains(t, out, "MAC: sha256", "PBES2, PBKDF2, AES-256-CBC",
		"friendlyName: acme root", "friendlyName: acme root-2", "friendlyName: partner-ca",
		opensslSubject(a.Root.Subject.CommonName, "Keyward Test"), opensslSubject(b.Intermediate.Subject.CommonName, "Keyward Test"))
	if n := strings.Count(out, "subject="); n != 4 {
		t.Errorf("openssl lists %d certificates, want 4:\n%s", n, out)
	}
	if out, err := runErr(t, "openssl", "pkcs12", "-info", "-nokeys", "-in", f, "-passin", "pass:wrong"); err == nil || !strings.Contains(out, "Mac verify error") {
		t.Errorf("openssl with a wrong password: %v\n%s", err, out)
	}
	// keytool sees trusted certificate entries under the aliases.
	out = run(t, "keytool", "-list", "-keystore", f, "-storetype", "PKCS12", "-storepass", "changeit")
	wantContains(t, out, "Keystore type: PKCS12", "Your keystore contains 4 entries",
		"acme root,", "acme root-2,", "partner-ca,", strings.ToLower(b.Intermediate.Subject.CommonName)+",")
	if n := strings.Count(out, "trustedCertEntry"); n != 4 {
		t.Errorf("keytool lists %d trustedCertEntry, want 4:\n%s", n, out)
	}
	// And Parse reads it back.
	if p := mustParse(t, "truststore.p12", p12, "changeit"); len(p.Certificates) != 4 {
		t.Errorf("Parse read %d certificates back", len(p.Certificates))
	}
}

func TestZipDER(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	files := []certs.ZipFile{{Name: "gateway-development.cer", Cert: c.Leaf}, {Name: "gateway-production.cer", Cert: c.Intermediate}}
	z, err := certs.ZipDER(files)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := certs.ZipDER(files)
	if !bytes.Equal(z, again) {
		t.Error("ZipDER is not deterministic")
	}
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.File) != 2 {
		t.Fatalf("%d entries", len(r.File))
	}
	for i, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name != files[i].Name || !bytes.Equal(data, files[i].Cert.Raw) || !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("entry %d: %s, %d bytes, modified %v", i, f.Name, len(data), f.Modified)
		}
		wantContains(t, run(t, "openssl", "x509", "-inform", "DER", "-in", writeFile(t, f.Name, data), "-noout", "-subject"), ", CN = "+files[i].Cert.Subject.CommonName+"\n")
	}
	for _, bad := range [][]certs.ZipFile{
		{{Name: "../evil.cer", Cert: c.Leaf}},
		{{Name: `dir\x.cer`, Cert: c.Leaf}},
		{{Name: "", Cert: c.Leaf}},
		{{Name: "a.cer", Cert: c.Leaf}, {Name: "a.cer", Cert: c.Root}},
	} {
		if _, err := certs.ZipDER(bad); err == nil {
			t.Errorf("ZipDER accepted %q", bad[0].Name)
		}
	}
}
