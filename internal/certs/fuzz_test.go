package certs_test

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/keyward/keyward/internal/errs"
	"github.com/smallstep/pkcs7"
	"software.sslmate.com/src/go-pkcs12"
)

// fuzzKinds are the ways an input reaches Parse: every accepted file
// extension, both paste encodings, a refused extension and a paste without
// an encoding. The fuzzer's kind byte picks one.
var fuzzKinds = []struct{ fileName, encoding string }{
	{"c.pem", ""}, {"c.crt", ""}, {"c.cer", ""}, {"c.cert", ""}, {"c.der", ""},
	{"c.p7b", ""}, {"c.p7c", ""}, {"c.p12", ""}, {"c.pfx", ""},
	{"", certs.EncodingBase64}, {"", certs.EncodingBase64PEM},
	{"c.txt", ""}, {"", ""},
}

// file and paste are the indexes of fuzz kinds.
func file(name string) uint8      { return kindOf(name, "") }
func paste(encoding string) uint8 { return kindOf("", encoding) }

func kindOf(name, encoding string) uint8 {
	for i, k := range fuzzKinds {
		if k.fileName == name && k.encoding == encoding {
			return uint8(i)
		}
	}
	panic("no fuzz kind " + name + encoding)
}

// FuzzParse feeds Parse arbitrary content as every kind of input. Parse
// must never panic, and must either return certificates or an *errs.Error
// on the input's field: never a bare error, which users would see as
// "Internal error.". `go test` runs the seed corpus in
// testdata/fuzz/FuzzParse (see TestFuzzParseCorpus for how it is made);
// `go test -fuzz FuzzParse ./internal/certs/` explores further.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s.content, s.kind, s.password)
	}
	f.Fuzz(func(t *testing.T, content []byte, kind uint8, password string) {
		k := fuzzKinds[int(kind)%len(fuzzKinds)]
		p, err := certs.Parse(certs.Input{Field: "content", FileName: k.fileName, Content: content, Encoding: k.encoding, Password: password})
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Field != "content" || e.Code != errs.Invalid || e.Message == "" {
				t.Fatalf("%+v: err = %#v, want an Invalid *errs.Error on content", k, err)
			}
			return
		}
		if len(p.Certificates) == 0 {
			t.Fatalf("%+v: no error and no certificates", k)
		}
		for _, c := range p.Certificates {
			if c == nil {
				t.Fatalf("%+v: nil certificate", k)
			}
		}
	})
}

type fuzzSeed struct {
	name     string // "valid-…" parses, "broken-…" is refused
	content  []byte
	kind     uint8
	password string
}

// fuzzSeeds are valid inputs of every format and broken ones of every kind
// Parse explains.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	c := certtest.NewChain(t, certtest.Options{})
	r := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	chainPEM := certtest.PEM(c.Leaf, c.Intermediate, c.Root)
	p7, err := certs.EncodePKCS7([]*x509.Certificate{c.Leaf, c.Intermediate})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern2023.Encode(r.LeafKey, r.Leaf, []*x509.Certificate{r.Intermediate}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := certs.TruststorePKCS12([]certs.NamedCert{{Alias: "root", Cert: c.Root}}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	empty7, _ := pkcs7.DegenerateCertificate(nil)
	b64 := []byte(base64.StdEncoding.EncodeToString(c.Leaf.Raw))
	return []fuzzSeed{
		{"valid-pem-chain", chainPEM, file("c.pem"), ""},
		{"valid-der", c.Leaf.Raw, file("c.der"), ""},
		{"valid-cer-pem", certtest.PEM(r.Leaf), file("c.cer"), ""},
		{"valid-p7b", p7, file("c.p7b"), ""},
		{"valid-p7c-pem", certtest.PEM(c.Root), file("c.p7c"), ""},
		{"valid-p12", p12, file("c.p12"), "changeit"},
		{"valid-pfx-truststore", trust, file("c.pfx"), "changeit"},
		{"valid-base64", b64, paste(certs.EncodingBase64), ""},
		{"valid-base64pem", chainPEM, paste(certs.EncodingBase64PEM), ""},
		{"broken-truncated-der", c.Leaf.Raw[:len(c.Leaf.Raw)/2], file("c.der"), ""},
		{"broken-trailing-garbage", append(append([]byte{}, c.Leaf.Raw...), "garbage"...), file("c.crt"), ""},
		{"broken-negative-serial", certtest.NegativeSerial(t), file("c.cert"), ""},
		{"broken-private-key", append(certtest.PEM(c.Leaf), c.LeafKeyPEM(t)...), file("c.pem"), ""},
		{"broken-damaged-pem", chainPEM[:len(chainPEM)-40], file("c.pem"), ""},
		{"broken-empty-p7b", empty7, file("c.p7b"), ""},
		{"broken-p12-wrong-password", p12, file("c.p12"), "wrong"},
		{"broken-truncated-p12", p12[:len(p12)-100], file("c.pfx"), "changeit"},
		{"broken-pem-as-base64", chainPEM, paste(certs.EncodingBase64), ""},
		{"broken-base64-as-pem", b64, paste(certs.EncodingBase64PEM), ""},
		{"broken-no-encoding", b64, paste(""), ""},
		{"broken-extension", chainPEM, file("c.txt"), ""},
	}
}

var updateCorpus = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzParse")

const corpusDir = "testdata/fuzz/FuzzParse"

// TestFuzzParseCorpus checks the committed seed corpus: every file is in
// Go's corpus format, "valid-" seeds parse and "broken-" ones are refused
// with a field error. `go test ./internal/certs/ -run TestFuzzParseCorpus
// -update` writes it anew from fuzzSeeds.
func TestFuzzParseCorpus(t *testing.T) {
	if *updateCorpus {
		if err := os.RemoveAll(corpusDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range fuzzSeeds(t) {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint8(%d)\nstring(%q)\n", s.content, s.kind, s.password)
			if err := os.WriteFile(filepath.Join(corpusDir, s.name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := os.ReadDir(corpusDir)
	if err != nil || len(files) < 10 {
		t.Fatalf("seed corpus: %d files, %v", len(files), err)
	}
	for _, f := range files {
		s := readSeed(t, filepath.Join(corpusDir, f.Name()))
		k := fuzzKinds[int(s.kind)%len(fuzzKinds)]
		_, err := certs.Parse(certs.Input{Field: field, FileName: k.fileName, Encoding: k.encoding, Content: s.content, Password: s.password})
		switch {
		case strings.HasPrefix(f.Name(), "valid-"):
			if err != nil {
				t.Errorf("%s: %v", f.Name(), err)
			}
		case strings.HasPrefix(f.Name(), "broken-"):
			if errs.FieldOf(err) != field {
				t.Errorf("%s: err = %v, want a field error", f.Name(), err)
			}
		default:
			t.Errorf("%s: a seed is named valid-… or broken-…", f.Name())
		}
	}
}

// readSeed reads a corpus file of FuzzParse's three arguments.
func readSeed(t *testing.T, path string) fuzzSeed {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 4 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a corpus file of three values", path)
	}
	arg := func(line, typ string) string {
		v, ok := strings.CutPrefix(line, typ+"(")
		if !ok || !strings.HasSuffix(v, ")") {
			t.Fatalf("%s: %q is not a %s", path, line, typ)
		}
		return strings.TrimSuffix(v, ")")
	}
	content, err1 := strconv.Unquote(arg(lines[1], "[]byte"))
	kind, err2 := strconv.ParseUint(arg(lines[2], "uint8"), 0, 8)
	password, err3 := strconv.Unquote(arg(lines[3], "string"))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fuzzSeed{content: []byte(content), kind: uint8(kind), password: password}
}
