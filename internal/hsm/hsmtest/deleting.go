package hsmtest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
)

// checkPINRefused asserts err refuses a PIN: a field error on "pin" or
// errs.Forbidden.
func checkPINRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted", what)
		return
	}
	if !(errs.CodeOf(err) == errs.Invalid && errs.FieldOf(err) == "pin") && !errs.Is(err, errs.Forbidden) {
		t.Errorf("%s: error %v (code %s, field %q), want a field error on \"pin\" or forbidden", what, err, errs.CodeOf(err), errs.FieldOf(err))
	}
}

func testDelete(t *testing.T, newManager NewManager) {
	m, pin := newManager(t)
	ctx := context.Background()
	keep := generate(t, m, hsm.GenerateRequest{Label: "keep", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	doomed := generate(t, m, hsm.GenerateRequest{Label: "doomed", Algorithm: hsm.RSA, Bits: 2048})
	old, err := m.Signer(ctx, doomed.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSignVerify(t, old, jose.RS256)

	for _, wrong := range []string{pin + "0", "", "0000"} {
		err := m.Delete(ctx, hsm.DeleteRequest{ID: doomed.ID, PIN: wrong})
		checkPINRefused(t, fmt.Sprintf("Delete with PIN %q", wrong), err)
		checkList(t, m, keep, doomed)
		if _, err := m.Find(ctx, doomed.ID); err != nil {
			t.Fatalf("Find after a refused delete: %v", err)
		}
		checkSignVerify(t, old, jose.RS256)
	}
	unknown, _ := hsm.NewID()
	err = m.Delete(ctx, hsm.DeleteRequest{ID: unknown, PIN: pin + "0"})
	checkPINRefused(t, "Delete of an unknown key with a wrong PIN (the PIN is checked first)", err)

	if err := m.Delete(ctx, hsm.DeleteRequest{ID: doomed.ID, PIN: pin}); err != nil {
		t.Fatalf("Delete with the right PIN: %v", err)
	}
	checkList(t, m, keep)
	_, err = m.Find(ctx, doomed.ID)
	checkNotFound(t, "Find after Delete", err)
	_, err = m.Signer(ctx, doomed.ID)
	checkNotFound(t, "Signer after Delete", err)
	digest := sha256.Sum256(payload)
	_, err = old.Sign(rand.Reader, digest[:], crypto.SHA256)
	checkNotFound(t, "Sign with a signer obtained before Delete", err)

	err = m.Delete(ctx, hsm.DeleteRequest{ID: doomed.ID, PIN: pin})
	checkNotFound(t, "Delete twice", err)
	err = m.Delete(ctx, hsm.DeleteRequest{ID: unknown, PIN: pin})
	checkNotFound(t, "Delete of an unknown key", err)
	_, err = m.Find(ctx, unknown)
	checkNotFound(t, "Find of an unknown key", err)

	s, err := m.Signer(ctx, keep.ID)
	if err != nil {
		t.Fatalf("Signer of the key kept: %v", err)
	}
	checkSignVerify(t, s, jose.ES256)
	checkList(t, m, keep)
}

func testCheckPIN(t *testing.T, newManager NewManager) {
	m, pin := newManager(t)
	ctx := context.Background()
	if err := m.CheckPIN(ctx, pin); err != nil {
		t.Fatalf("CheckPIN with the right PIN: %v", err)
	}
	checkPINRefused(t, "CheckPIN with a wrong PIN", m.CheckPIN(ctx, pin+"0"))
	checkPINRefused(t, "CheckPIN with an empty PIN", m.CheckPIN(ctx, ""))
	if err := m.CheckPIN(ctx, pin); err != nil {
		t.Fatalf("CheckPIN with the right PIN after wrong ones: %v", err)
	}
}

func testInfo(t *testing.T, newManager NewManager) {
	m, _ := newManager(t)
	ti, err := m.Info(context.Background())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if ti.Backend != hsm.BackendPKCS11 && ti.Backend != hsm.BackendSoft {
		t.Errorf("Info backend %q", ti.Backend)
	}
	if ti.Label == "" {
		t.Errorf("Info has no token label")
	}
	if slices.Contains(ti.PINFlags, hsm.PINLocked) {
		t.Errorf("a fresh token's PIN is locked: %v", ti.PINFlags)
	}
	if !slices.Contains(ti.PINFlags, hsm.PINInitialized) {
		t.Errorf("PIN flags %v lack %s", ti.PINFlags, hsm.PINInitialized)
	}
}
