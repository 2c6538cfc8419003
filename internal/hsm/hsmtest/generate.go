package hsmtest

import (
	"context"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/hsm"
)

func testGenerate(t *testing.T, newManager NewManager, alg hsm.Algorithm, bits int) {
	m, _ := newManager(t)
	ctx := context.Background()
	checkList(t, m)
	req := hsm.GenerateRequest{Label: "jwt " + string(alg), Algorithm: alg, Bits: bits}
	if alg == hsm.EC {
		req = hsm.GenerateRequest{Label: "jwt EC", Algorithm: alg, Curve: hsm.CurveP256}
	}
	ki := generate(t, m, req)
	checkInfo(t, ki, want{label: req.Label, alg: alg, bits: bits, origin: hsm.Generated})
	found, err := m.Find(ctx, ki.ID)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	checkInfo(t, found, want{label: req.Label, alg: alg, bits: bits, origin: hsm.Generated, public: ki.Public})
	checkList(t, m, ki)
	s, err := m.Signer(ctx, ki.ID)
	if err != nil {
		t.Fatalf("Signer: %v", err)
	}
	if !samePublic(s.Public(), ki.Public) {
		t.Errorf("the signer's public key is not the key's")
	}
	checkSignVerify(t, s, algsFor(alg)...)
}

func testSharedLabel(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ctx := context.Background()
	req := hsm.GenerateRequest{Label: "RSA_4096", Algorithm: hsm.EC, Curve: hsm.CurveP256}
	a := generate(t, m, req)
	b := generate(t, m, req)
	if string(a.ID) == string(b.ID) {
		t.Fatalf("two keys got the same CKA_ID %x", a.ID)
	}
	if samePublic(a.Public, b.Public) {
		t.Fatalf("two generated keys have the same public key")
	}
	checkList(t, m, a, b)
	for _, k := range []hsm.KeyInfo{a, b} {
		found, err := m.Find(ctx, k.ID)
		if err != nil {
			t.Fatalf("Find %x: %v", k.ID, err)
		}
		checkInfo(t, found, want{label: req.Label, alg: hsm.EC, bits: 256, origin: hsm.Generated, public: k.Public})
		s, err := m.Signer(ctx, k.ID)
		if err != nil {
			t.Fatalf("Signer %x: %v", k.ID, err)
		}
		if !samePublic(s.Public(), k.Public) {
			t.Errorf("Signer %x hands out another key's signer", k.ID)
		}
	}
}

func testGenerateRefused(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ctx := context.Background()
	ec := func(label string) hsm.GenerateRequest {
		return hsm.GenerateRequest{Label: label, Algorithm: hsm.EC, Curve: hsm.CurveP256}
	}
	cases := []struct {
		name  string
		req   hsm.GenerateRequest
		field string
	}{
		{"RSA 1024", hsm.GenerateRequest{Label: "k", Algorithm: hsm.RSA, Bits: 1024}, "keyLength"},
		{"RSA 3072", hsm.GenerateRequest{Label: "k", Algorithm: hsm.RSA, Bits: 3072}, "keyLength"},
		{"RSA without length", hsm.GenerateRequest{Label: "k", Algorithm: hsm.RSA}, "keyLength"},
		{"RSA with a curve", hsm.GenerateRequest{Label: "k", Algorithm: hsm.RSA, Bits: 2048, Curve: hsm.CurveP256}, "curve"},
		{"EC P-384", hsm.GenerateRequest{Label: "k", Algorithm: hsm.EC, Curve: "P-384"}, "curve"},
		{"EC without curve", hsm.GenerateRequest{Label: "k", Algorithm: hsm.EC}, "curve"},
		{"EC 384 bits", hsm.GenerateRequest{Label: "k", Algorithm: hsm.EC, Curve: hsm.CurveP256, Bits: 384}, "keyLength"},
		{"DSA", hsm.GenerateRequest{Label: "k", Algorithm: "DSA", Bits: 2048}, "algorithm"},
		{"no algorithm", hsm.GenerateRequest{Label: "k"}, "algorithm"},
		{"empty label", ec(""), "label"},
		{"blank label", ec("   "), "label"},
		{"201-character label", ec(strings.Repeat("a", 201)), "label"},
		{"label with a line break", ec("a\nb"), "label"},
		{"label with NUL", ec("a\x00b"), "label"},
		{"label not UTF-8", ec("a\xffb"), "label"},
	}
	for _, c := range cases {
		_, err := m.Generate(ctx, c.req)
		checkField(t, c.name, err, c.field)
	}
	_, err := m.Import(ctx, hsm.ImportRequest{Label: "", PrivateKeyPEM: mustFixtures(t).ecPKCS8})
	checkField(t, "import with an empty label", err, "label")
	checkList(t, m)

	long := strings.Repeat("é", hsm.MaxLabelLength)
	ki := generate(t, m, ec(long))
	checkInfo(t, ki, want{label: long, alg: hsm.EC, bits: 256, origin: hsm.Generated})
	checkList(t, m, ki)
}
