package hsmtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/keyward/keyward/internal/hsm"
)

var payload = []byte(`{"sub":"hsmtest","aud":"gateway"}`)

func algsFor(alg hsm.Algorithm) []jose.SignatureAlgorithm {
	if alg == hsm.RSA {
		return []jose.SignatureAlgorithm{jose.RS256, jose.PS256}
	}
	return []jose.SignatureAlgorithm{jose.ES256}
}

// signJWS signs payload as a compact JWS through go-jose's cryptosigner,
// the path the product's sign endpoint takes: it sends PSSSaltLengthAuto for
// PS256 and converts ECDSA's DER into R||S for ES256.
func signJWS(s crypto.Signer, alg jose.SignatureAlgorithm) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(s)}, nil)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// verifyJWS verifies a compact JWS with go-jose against pub.
func verifyJWS(compact string, alg jose.SignatureAlgorithm, pub crypto.PublicKey) error {
	parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return err
	}
	got, err := parsed.Verify(pub)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("verified payload %q, want %q", got, payload)
	}
	return nil
}

// checkSignVerify signs a JWS with each alg and verifies it with the
// signer's public key; a JWS signed by another key must not verify.
func checkSignVerify(t *testing.T, s crypto.Signer, algs ...jose.SignatureAlgorithm) {
	t.Helper()
	for _, alg := range algs {
		compact, err := signJWS(s, alg)
		if err != nil {
			t.Fatalf("sign %s: %v", alg, err)
		}
		if err := verifyJWS(compact, alg, s.Public()); err != nil {
			t.Fatalf("verify %s: %v", alg, err)
		}
		tampered := compact[:len(compact)-4] + flip(compact[len(compact)-4:])
		if verifyJWS(tampered, alg, s.Public()) == nil {
			t.Fatalf("a tampered %s JWS verified", alg)
		}
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func testSignVerify(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ctx := context.Background()
	r := generate(t, m, hsm.GenerateRequest{Label: "rsa", Algorithm: hsm.RSA, Bits: 2048})
	e := generate(t, m, hsm.GenerateRequest{Label: "ec", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	rs, err := m.Signer(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	es, err := m.Signer(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSignVerify(t, rs, jose.RS256, jose.PS256)
	checkSignVerify(t, es, jose.ES256)

	// The raw signatures, as the interface documents them.
	digest := sha256.Sum256(payload)
	sig, err := es.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("ECDSA sign: %v", err)
	}
	if !ecdsa.VerifyASN1(e.Public.(*ecdsa.PublicKey), digest[:], sig) {
		t.Errorf("the ECDSA signature is not ASN.1 DER (%d bytes)", len(sig))
	}
	sig, err = rs.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256})
	if err != nil {
		t.Fatalf("RSA-PSS sign with PSSSaltLengthAuto: %v", err)
	}
	err = rsa.VerifyPSS(r.Public.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Errorf("PSSSaltLengthAuto was not signed with the salt as long as the hash: %v", err)
	}
	sig, err = rs.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("RSA PKCS#1 v1.5 sign: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(r.Public.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("RSA PKCS#1 v1.5 signature: %v", err)
	}
	again, err := m.Signer(ctx, r.ID)
	if err != nil || again != rs {
		t.Errorf("Signer is not cached: %v", err)
	}
	checkList(t, m, r, e)
}

func testConcurrentSign(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ctx := context.Background()
	e := generate(t, m, hsm.GenerateRequest{Label: "ec", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				s, err := m.Signer(ctx, e.ID)
				if err != nil {
					errc <- err
					return
				}
				compact, err := signJWS(s, jose.ES256)
				if err == nil {
					err = verifyJWS(compact, jose.ES256, e.Public)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("concurrent ES256: %v", err)
	}
}
