package soft_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/hsmtest"
	"github.com/keyward/keyward/internal/hsm/soft"
	"github.com/keyward/keyward/internal/seal"
)

const testPIN = "5678"

func newSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(master)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newManager(t *testing.T, store soft.Store) *soft.Manager {
	t.Helper()
	hash, err := soft.HashPIN(testPIN)
	if err != nil {
		t.Fatal(err)
	}
	m, err := soft.New(soft.Config{Store: store, Sealer: newSealer(t), PINHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestConformance(t *testing.T) {
	hsmtest.Run(t, func(t *testing.T) (hsm.KeyManager, string) {
		return newManager(t, soft.NewMemStore()), testPIN
	})
}

// TestSealedRecords checks a stored record holds no private key in clear and
// that a sealed key moved to another record does not open.
func TestSealedRecords(t *testing.T) {
	store := soft.NewMemStore()
	m := newManager(t, store)
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	imp, err := m.Import(ctx, hsm.ImportRequest{Label: "imported", PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})})
	if err != nil {
		t.Fatal(err)
	}
	ri, _ := store.Get(ctx, imp.ID)
	for _, field := range [][]byte{ri.SealedKey, ri.PublicDER, []byte(ri.Label)} {
		if bytes.Contains(field, key.D.Bytes()) || bytes.Contains(field, der) {
			t.Fatal("the stored record holds the private key in clear")
		}
	}
	a, err := m.Generate(ctx, hsm.GenerateRequest{Label: "a", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Generate(ctx, hsm.GenerateRequest{Label: "b", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := store.Get(ctx, a.ID)
	rb, _ := store.Get(ctx, b.ID)
	if ra.Origin != hsm.Generated || ra.Algorithm != hsm.EC || ra.Bits != 256 || ra.Curve != hsm.CurveP256 {
		t.Errorf("record %+v", ra)
	}
	// Swap the sealed keys: neither signer may open.
	store.Delete(ctx, a.ID)
	ra.SealedKey = rb.SealedKey
	store.Put(ctx, ra)
	if _, err := m.Signer(ctx, a.ID); err == nil {
		t.Fatal("a sealed key moved to another record opened")
	}
}

func TestPIN(t *testing.T) {
	ctx := context.Background()
	if _, err := soft.HashPIN("123"); errs.FieldOf(err) != "pin" {
		t.Errorf("HashPIN of a 3-character PIN: %v", err)
	}
	m, err := soft.New(soft.Config{Store: soft.NewMemStore(), Sealer: newSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckPIN(ctx, testPIN); errs.FieldOf(err) != "pin" {
		t.Errorf("CheckPIN before a PIN is set: %v", err)
	}
	ti, _ := m.Info(ctx)
	if ti.Backend != hsm.BackendSoft || len(ti.PINFlags) != 0 {
		t.Errorf("Info before a PIN is set: %+v", ti)
	}
	hash, err := soft.HashPIN(testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPINHash(hash); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckPIN(ctx, testPIN); err != nil {
		t.Errorf("CheckPIN: %v", err)
	}
	other, _ := soft.HashPIN("9999")
	if err := m.SetPINHash(other); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second SetPINHash: %v, want conflict", err)
	}
	if err := m.CheckPIN(ctx, "9999"); errs.FieldOf(err) != "pin" {
		t.Errorf("the PIN changed after a refused SetPINHash: %v", err)
	}
	if _, err := soft.New(soft.Config{Store: soft.NewMemStore(), Sealer: newSealer(t), PINHash: "5678"}); err == nil {
		t.Error("a PIN in clear was accepted as a hash")
	}
}
