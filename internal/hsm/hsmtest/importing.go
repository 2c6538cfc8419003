package hsmtest

import (
	"context"
	"crypto"
	"sort"
	"testing"

	"github.com/keyward/keyward/internal/hsm"
)

func testImport(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ctx := context.Background()
	f := mustFixtures(t)
	cases := []struct {
		name string
		pem  []byte
		alg  hsm.Algorithm
		bits int
		pub  crypto.PublicKey
	}{
		{"RSA PKCS#1", f.rsaPKCS1, hsm.RSA, 2048, f.rsa1Pub},
		{"RSA PKCS#8", f.rsaPKCS8, hsm.RSA, 2048, f.rsa8Pub},
		{"EC PKCS#8", f.ecPKCS8, hsm.EC, 256, f.ec8Pub},
		{"EC SEC1", f.ecSEC1, hsm.EC, 256, f.ec1Pub},
	}
	var imported []hsm.KeyInfo
	for i, c := range cases {
		req := hsm.ImportRequest{Label: "imported " + c.name, PrivateKeyPEM: c.pem}
		if i%2 == 0 {
			req.Algorithm = c.alg // with and without the chosen algorithm
		}
		ki, err := m.Import(ctx, req)
		if err != nil {
			t.Fatalf("Import %s: %v", c.name, err)
		}
		w := want{label: req.Label, alg: c.alg, bits: c.bits, origin: hsm.Imported, public: c.pub}
		checkInfo(t, ki, w)
		found, err := m.Find(ctx, ki.ID)
		if err != nil {
			t.Fatalf("Find %s: %v", c.name, err)
		}
		checkInfo(t, found, w)
		imported = append(imported, ki)
		checkList(t, m, imported...)
		s, err := m.Signer(ctx, ki.ID)
		if err != nil {
			t.Fatalf("Signer %s: %v", c.name, err)
		}
		checkSignVerify(t, s, algsFor(c.alg)...)
	}
}

func testImportRefused(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ctx := context.Background()
	f := mustFixtures(t)
	names := make([]string, 0, len(f.refused))
	for name := range f.refused {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		_, err := m.Import(ctx, hsm.ImportRequest{Label: "refused", PrivateKeyPEM: f.refused[name]})
		checkField(t, name, err, "privateKeyPem")
	}
	_, err := m.Import(ctx, hsm.ImportRequest{Label: "refused", PrivateKeyPEM: f.rsaPKCS8, Algorithm: hsm.EC})
	checkField(t, "RSA key imported as EC", err, "privateKeyPem")
	_, err = m.Import(ctx, hsm.ImportRequest{Label: "refused", PrivateKeyPEM: f.ecPKCS8, Algorithm: hsm.RSA})
	checkField(t, "EC key imported as RSA", err, "privateKeyPem")
	checkList(t, m)
}
