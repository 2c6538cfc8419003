package certs_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
)

func TestParsePEMAndDER(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	for _, name := range []string{"leaf.pem", "leaf.crt", "leaf.cer", "leaf.cert", "leaf.der", "LEAF.CER", `C:\fakepath\leaf.pem`} {
		wantCerts(t, mustParse(t, name, certtest.PEM(c.Leaf), "").Certificates, c.Leaf)
		wantCerts(t, mustParse(t, name, c.Leaf.Raw, "").Certificates, c.Leaf)
	}
	// Some Windows tools write .cer files as bare base64 of the DER.
	b64 := []byte(base64.StdEncoding.EncodeToString(c.Leaf.Raw) + "\r\n")
	wantCerts(t, mustParse(t, "leaf.cer", b64, "").Certificates, c.Leaf)
	// Text around PEM blocks (openssl's "subject=" lines) is ignored.
	text := append([]byte("subject=CN = localhost\n"), certtest.PEM(c.Leaf)...)
	wantCerts(t, mustParse(t, "leaf.pem", text, "").Certificates, c.Leaf)
	// Concatenated DER certificates are read one after the other.
	wantCerts(t, mustParse(t, "chain.der", append(append([]byte{}, c.Leaf.Raw...), c.Intermediate.Raw...), "").Certificates, c.Leaf, c.Intermediate)
	// The X509 CERTIFICATE label some old tools write.
	old := pem.EncodeToMemory(&pem.Block{Type: "X509 CERTIFICATE", Bytes: c.Leaf.Raw})
	wantCerts(t, mustParse(t, "leaf.pem", old, "").Certificates, c.Leaf)
}

func TestParseOrdersChainsLeafFirst(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	for _, order := range [][]*x509.Certificate{
		{c.Root, c.Intermediate, c.Leaf},
		{c.Intermediate, c.Leaf, c.Root},
		{c.Leaf, c.Root, c.Intermediate, c.Leaf}, // and the repeated leaf is dropped
	} {
		wantCerts(t, mustParse(t, "chain.pem", certtest.PEM(order...), "").Certificates, c.Leaf, c.Intermediate, c.Root)
	}
	// Unrelated certificates (a CA bundle) keep the order given.
	other := certtest.NewChain(t, certtest.Options{})
	wantCerts(t, mustParse(t, "cas.pem", certtest.PEM(other.Root, c.Root), "").Certificates, other.Root, c.Root)
	// So does a broken chain: leaf and root without the intermediate.
	wantCerts(t, mustParse(t, "gap.pem", certtest.PEM(c.Root, c.Leaf), "").Certificates, c.Root, c.Leaf)
}

func TestParseOpenSSLTrustedCertificate(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	in := writeFile(t, "root.pem", certtest.PEM(c.Root))
	out := run(t, "openssl", "x509", "-in", in, "-trustout", "-addtrust", "serverAuth")
	if !strings.Contains(out, "BEGIN TRUSTED CERTIFICATE") {
		t.Fatalf("openssl wrote no TRUSTED CERTIFICATE:\n%s", out)
	}
	wantCerts(t, mustParse(t, "root.pem", []byte(out), "").Certificates, c.Root)
}

func TestParsePaste(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	wrapped := base64.StdEncoding.EncodeToString(c.Leaf.Raw)
	var lines []string
	for len(wrapped) > 64 {
		lines, wrapped = append(lines, wrapped[:64]), wrapped[64:]
	}
	lines = append(lines, wrapped)
	cases := map[string]certs.Input{
		"BASE64 one line":       {Encoding: certs.EncodingBase64, Content: []byte(base64.StdEncoding.EncodeToString(c.Leaf.Raw))},
		"BASE64 wrapped":        {Encoding: certs.EncodingBase64, Content: []byte("  " + strings.Join(lines, "\r\n  ") + "\n")},
		"BASE64 unpadded":       {Encoding: certs.EncodingBase64, Content: []byte(base64.RawStdEncoding.EncodeToString(c.Leaf.Raw))},
		"base64 in lower case":  {Encoding: "base64", Content: []byte(base64.StdEncoding.EncodeToString(c.Leaf.Raw))},
		"BASE64PEM":             {Encoding: certs.EncodingBase64PEM, Content: certtest.PEM(c.Leaf)},
		"BASE64PEM with spaces": {Encoding: certs.EncodingBase64PEM, Content: append([]byte("\n  "), certtest.PEM(c.Leaf)...)},
	}
	for name, in := range cases {
		in.Field = field
		p, err := certs.Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantCerts(t, p.Certificates, c.Leaf)
	}
	chain, err := certs.Parse(certs.Input{Field: field, Encoding: certs.EncodingBase64PEM, Content: certtest.PEM(c.Root, c.Leaf, c.Intermediate)})
	if err != nil {
		t.Fatal(err)
	}
	wantCerts(t, chain.Certificates, c.Leaf, c.Intermediate, c.Root)
}

func TestParsePasteMismatch(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	b64 := []byte(base64.StdEncoding.EncodeToString(c.Leaf.Raw))
	cases := []struct {
		encoding string
		content  []byte
		want     string
	}{
		{certs.EncodingBase64, certtest.PEM(c.Leaf), "This looks like PEM; choose BASE64PEM."},
		{certs.EncodingBase64PEM, b64, "This looks like base64 of DER; choose BASE64."},
		{certs.EncodingBase64PEM, []byte("hello, world"), "This is not PEM text"},
		{certs.EncodingBase64, []byte("not base64!"), `it holds '!', which base64 does not use`},
		{certs.EncodingBase64, []byte("MIIB\u00e9"), `it holds 'é'`},
		{certs.EncodingBase64, []byte("QUJD="), "neither PEM nor DER"}, // "ABC"
		{certs.EncodingBase64, []byte("QUJDR"), "cut short"},
		{"", b64, "Choose the encoding type of the pasted text: BASE64 or BASE64PEM."},
		{"DER", b64, `The encoding type "DER" is not one of BASE64, BASE64PEM.`},
	}
	for _, tc := range cases {
		_, err := certs.Parse(certs.Input{Field: field, Encoding: tc.encoding, Content: tc.content})
		wantFieldError(t, err, tc.want)
	}
}

func TestParseSizeLimits(t *testing.T) {
	for _, in := range []certs.Input{
		{FileName: "a.pem"},
		{FileName: "a.pem", Content: []byte(" \n\t")},
	} {
		in.Field = field
		_, err := certs.Parse(in)
		wantFieldError(t, err, `The file "a.pem" is empty.`)
	}
	_, err := certs.Parse(certs.Input{Field: field, Encoding: certs.EncodingBase64PEM, Content: []byte("\n\n")})
	wantFieldError(t, err, "The certificate text is empty")

	big := bytes.Repeat([]byte("A"), certs.MaxInput+1)
	_, err = parseFile(t, "big.pem", big)
	wantFieldError(t, err, `The file "big.pem" is 262145 bytes; the limit is 256 KiB.`)
	_, err = certs.Parse(certs.Input{Field: field, Encoding: certs.EncodingBase64, Content: big})
	wantFieldError(t, err, "The pasted text is 262145 bytes; the limit is 256 KiB.")
	// Exactly the limit is read (and then found not to be a certificate).
	_, err = parseFile(t, "limit.der", bytes.Repeat([]byte{0}, certs.MaxInput))
	wantFieldError(t, err, "neither PEM nor DER")
}

func TestParseFileNames(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	list := ".pem, .crt, .cer, .cert, .der, .p7b, .p7c, .p12, .pfx"
	_, err := parseFile(t, "leaf.txt", certtest.PEM(c.Leaf))
	wantFieldError(t, err, "Files ending in .txt are not accepted; use one of "+list+".")
	_, err = parseFile(t, "leaf", certtest.PEM(c.Leaf))
	wantFieldError(t, err, `The file name "leaf" has no extension; use one of `+list+".")
}

func TestParseBadDER(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	der := c.Leaf.Raw
	_, err := parseFile(t, "leaf.der", der[:len(der)-10])
	wantFieldError(t, err, "The DER data is truncated: the certificate should be")
	_, err = parseFile(t, "leaf.der", der[:3])
	wantFieldError(t, err, "The DER data is truncated")
	_, err = parseFile(t, "leaf.cer", append(append([]byte{}, der...), 0xde, 0xad, 0xbe))
	wantFieldError(t, err, "The DER certificate is followed by 3 bytes of other data")
	_, err = parseFile(t, "leaf.der", append(append([]byte{}, der...), c.Leaf.RawSubject...))
	wantFieldError(t, err, "followed by")
	_, err = parseFile(t, "random.der", []byte{0x01, 0x02, 0xff, 0x00})
	wantFieldError(t, err, "This is neither PEM nor DER; it holds no certificate.")
	_, err = parseFile(t, "notes.cer", []byte("hello, this is a text file\n"))
	wantFieldError(t, err, "neither PEM nor base64")
	_, err = parseFile(t, "name.der", c.Leaf.RawSubject)
	wantFieldError(t, err, "This DER data is not a certificate.")
	// A certificate field damaged inside an intact outer structure: Go's
	// own error is passed on in a sentence.
	damaged := append([]byte{}, der...)
	copy(damaged[bytes.Index(damaged, c.Leaf.RawSubjectPublicKeyInfo):], bytes.Repeat([]byte{0xff}, 8))
	_, err = parseFile(t, "leaf.der", damaged)
	wantFieldError(t, err, "Go's X.509 parser refuses this certificate (x509:")
}

func TestParseNegativeSerial(t *testing.T) {
	der := certtest.NegativeSerial(t)
	// OpenSSL reads it, so the file is fine and the refusal is Go's.
	out := run(t, "openssl", "x509", "-inform", "DER", "-in", writeFile(t, "neg.der", der), "-noout", "-serial")
	wantContains(t, out, "serial=-01")
	want := "Go's X.509 parser refuses this certificate because its serial number is negative, which RFC 5280 forbids"
	_, err := parseFile(t, "neg.der", der)
	wantFieldError(t, err, want)
	_, err = parseFile(t, "neg.pem", certtestPEM(der))
	wantFieldError(t, err, want)
	p7 := run(t, "openssl", "crl2pkcs7", "-nocrl", "-certfile", writeFile(t, "neg.pem", certtestPEM(der)), "-outform", "PEM")
	_, err = parseFile(t, "neg.p7b", []byte(p7))
	wantFieldError(t, err, want)
}

func certtestPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParseRefusesKeysAndOtherPEM(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	rsaChain := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	p8, _ := x509.MarshalPKCS8PrivateKey(c.LeafKey)
	sec1, _ := x509.MarshalECPrivateKey(c.LeafKey.(*ecdsa.PrivateKey))
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaChain.LeafKey.(*rsa.PrivateKey))
	keyMsg := "This is a private key; certificates hold only public data — add private keys under Keys."
	for typ, der := range map[string][]byte{"PRIVATE KEY": p8, "RSA PRIVATE KEY": pkcs1, "EC PRIVATE KEY": sec1, "ENCRYPTED PRIVATE KEY": p8} {
		_, err := parseFile(t, "key.pem", pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
		wantFieldError(t, err, keyMsg)
	}
	// A certificate with its key in one PEM file: the key is refused, not skipped.
	_, err := parseFile(t, "both.pem", append(certtest.PEM(c.Leaf), c.LeafKeyPEM(t)...))
	wantFieldError(t, err, keyMsg)
	// A private key as DER, and pasted as base64.
	for _, der := range [][]byte{p8, sec1, pkcs1} {
		_, err = parseFile(t, "key.der", der)
		wantFieldError(t, err, keyMsg)
	}
	_, err = certs.Parse(certs.Input{Field: field, Encoding: certs.EncodingBase64, Content: []byte(base64.StdEncoding.EncodeToString(pkcs1))})
	wantFieldError(t, err, keyMsg)

	spki, _ := x509.MarshalPKIXPublicKey(c.LeafKey.Public())
	_, err = parseFile(t, "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	wantFieldError(t, err, "This is a public key, not a certificate; add public keys under Keys.")
	_, err = parseFile(t, "pub.der", spki)
	wantFieldError(t, err, "This is a public key")
	_, err = parseFile(t, "x.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}}))
	wantFieldError(t, err, "certificate signing request (CSR)")
	_, err = parseFile(t, "x.pem", pem.EncodeToMemory(&pem.Block{Type: "SOMETHING ELSE", Bytes: []byte{1}}))
	wantFieldError(t, err, `The PEM block "SOMETHING ELSE" is not a certificate.`)
}

func TestParseDamagedPEM(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	good := string(certtest.PEM(c.Leaf))
	noEnd := good[:strings.Index(good, "-----END")]
	_, err := parseFile(t, "leaf.pem", []byte(noEnd))
	wantFieldError(t, err, "The PEM text is damaged: its -----END line is missing or its base64 is invalid.")
	// pem.Decode would skip a damaged first block and return the second.
	badBase64 := strings.Replace(good, "\n", "\n!!!!", 2)
	_, err = parseFile(t, "chain.pem", []byte(badBase64+string(certtest.PEM(c.Intermediate))))
	wantFieldError(t, err, "PEM block 1 of 2: The PEM text is damaged")
	// A block holding a truncated certificate is named by its number.
	cut := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Intermediate.Raw[:100]})
	_, err = parseFile(t, "chain.pem", append(certtest.PEM(c.Leaf), cut...))
	wantFieldError(t, err, "PEM block 2 of 2: The DER data is truncated")
}
