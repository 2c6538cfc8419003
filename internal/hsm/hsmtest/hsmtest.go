// Package hsmtest is the conformance suite every hsm.KeyManager backend
// passes: the software token with an in-memory store, and PKCS#11 against a
// throwaway SoftHSM2 token. Each case gets a fresh, empty token from
// newManager, so List can be checked exactly after every step.
package hsmtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/hex"
	"sort"
	"testing"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
)

// NewManager returns a KeyManager over a fresh, empty token and the token's
// user PIN. It closes the manager in t.Cleanup.
type NewManager func(t *testing.T) (hsm.KeyManager, string)

// Run runs the conformance suite against the backend newManager builds.
func Run(t *testing.T, newManager NewManager) {
	t.Run("GenerateRSA2048", func(t *testing.T) { testGenerate(t, newManager, hsm.RSA, 2048) })
	t.Run("GenerateRSA4096", func(t *testing.T) { testGenerate(t, newManager, hsm.RSA, 4096) })
	t.Run("GenerateEC", func(t *testing.T) { testGenerate(t, newManager, hsm.EC, 256) })
	t.Run("SharedLabel", func(t *testing.T) { testSharedLabel(t, newManager) })
	t.Run("GenerateRefused", func(t *testing.T) { testGenerateRefused(t, newManager) })
	t.Run("Import", func(t *testing.T) { testImport(t, newManager) })
	t.Run("ImportRefused", func(t *testing.T) { testImportRefused(t, newManager) })
	t.Run("SignVerify", func(t *testing.T) { testSignVerify(t, newManager) })
	t.Run("ConcurrentSign", func(t *testing.T) { testConcurrentSign(t, newManager) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newManager) })
	t.Run("CheckPIN", func(t *testing.T) { testCheckPIN(t, newManager) })
	t.Run("Info", func(t *testing.T) { testInfo(t, newManager) })
}

// want is what a KeyInfo must say.
type want struct {
	label  string
	alg    hsm.Algorithm
	bits   int
	origin hsm.Origin
	public crypto.PublicKey // nil: any public key of the right kind
}

// checkInfo asserts every field of a KeyInfo.
func checkInfo(t *testing.T, got hsm.KeyInfo, w want) {
	t.Helper()
	if len(got.ID) != hsm.IDLength {
		t.Errorf("CKA_ID %x: %d bytes, want %d", got.ID, len(got.ID), hsm.IDLength)
	}
	if got.Label != w.label || got.Algorithm != w.alg || got.Bits != w.bits || got.Origin != w.origin {
		t.Errorf("key %x: label %q alg %s bits %d origin %s, want %q %s %d %s",
			got.ID, got.Label, got.Algorithm, got.Bits, got.Origin, w.label, w.alg, w.bits, w.origin)
	}
	wantCurve := ""
	if w.alg == hsm.EC {
		wantCurve = hsm.CurveP256
	}
	if got.Curve != wantCurve {
		t.Errorf("key %x: curve %q, want %q", got.ID, got.Curve, wantCurve)
	}
	if !got.Sensitive || got.Extractable {
		t.Errorf("key %x: sensitive %v extractable %v, want sensitive and not extractable", got.ID, got.Sensitive, got.Extractable)
	}
	switch pub := got.Public.(type) {
	case *rsa.PublicKey:
		if w.alg != hsm.RSA || pub.N.BitLen() != w.bits {
			t.Errorf("key %x: RSA public key of %d bits, want %s %d", got.ID, pub.N.BitLen(), w.alg, w.bits)
		}
	case *ecdsa.PublicKey:
		if w.alg != hsm.EC || pub.Curve.Params().Name != hsm.CurveP256 {
			t.Errorf("key %x: EC public key on %s, want %s", got.ID, pub.Curve.Params().Name, w.alg)
		}
	default:
		t.Errorf("key %x: public key %T", got.ID, got.Public)
	}
	if w.public != nil && !samePublic(got.Public, w.public) {
		t.Errorf("key %x: public key differs from the imported key's", got.ID)
	}
}

func samePublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// checkList asserts that List holds exactly the keys given, with the same
// attributes.
func checkList(t *testing.T, m hsm.KeyManager, keys ...hsm.KeyInfo) {
	t.Helper()
	got, err := m.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if ids(got) != ids(keys) {
		t.Fatalf("List = %s, want %s", ids(got), ids(keys))
	}
	byID := map[string]hsm.KeyInfo{}
	for _, k := range got {
		byID[string(k.ID)] = k
	}
	for _, k := range keys {
		l := byID[string(k.ID)]
		if l.Label != k.Label || l.Algorithm != k.Algorithm || l.Bits != k.Bits || l.Curve != k.Curve ||
			l.Origin != k.Origin || l.Sensitive != k.Sensitive || l.Extractable != k.Extractable || !samePublic(l.Public, k.Public) {
			t.Errorf("List entry %x = %+v, want %+v", k.ID, l, k)
		}
	}
}

func ids(keys []hsm.KeyInfo) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = hex.EncodeToString(k.ID)
	}
	sort.Strings(s)
	var b bytes.Buffer
	b.WriteString("[")
	for i, x := range s {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(x)
	}
	b.WriteString("]")
	return b.String()
}

// checkField asserts err is an errs.Invalid error about field.
func checkField(t *testing.T, what string, err error, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want a field error on %q", what, field)
		return
	}
	if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != field {
		t.Errorf("%s: error %v (code %s, field %q), want a field error on %q", what, err, errs.CodeOf(err), errs.FieldOf(err), field)
	}
}

// checkNotFound asserts err is an errs.NotFound error.
func checkNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("%s: error %v (code %s), want not_found", what, err, errs.CodeOf(err))
	}
}

func generate(t *testing.T, m hsm.KeyManager, req hsm.GenerateRequest) hsm.KeyInfo {
	t.Helper()
	ki, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatalf("Generate %+v: %v", req, err)
	}
	return ki
}
