//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/hsmtest"
)

func TestConformance(t *testing.T) {
	hsmtest.Run(t, func(t *testing.T) (hsm.KeyManager, string) {
		return openToken(t), testPIN
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := newToken(t)
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no module", func(c *Config) { c.Module = "" }, "module path is required"},
		{"module missing", func(c *Config) { c.Module = "/nonexistent/libsofthsm2.so" }, "/nonexistent/libsofthsm2.so not found"},
		{"no token label", func(c *Config) { c.TokenLabel = "" }, "token label is required"},
		{"token not found", func(c *Config) { c.TokenLabel = "nope" }, `no PKCS#11 token labelled "nope"`},
		{"no PIN", func(c *Config) { c.PIN = "" }, "PIN is required"},
		{"wrong PIN", func(c *Config) { c.PIN = "0000" }, `wrong user PIN for PKCS#11 token "kw-test"`},
		{"one session", func(c *Config) { c.MaxSessions = 1 }, "at least 2"},
		{"negative sessions", func(c *Config) { c.MaxSessions = -3 }, "at least 2"},
	}
	for _, c := range cases {
		cfg := good
		c.edit(&cfg)
		m, err := New(cfg)
		if err == nil {
			m.Close()
			t.Errorf("%s: New succeeded", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %q", c.name, err, c.want)
		}
		if strings.Contains(err.Error(), "0000") {
			t.Errorf("%s: the error shows the PIN: %v", c.name, err)
		}
	}
}

// TestCheckPINWhileLoggedIn shows why the PIN is checked in a child: in this
// process the token is logged in, so even a crypto11 context with a wrong PIN
// opens; the child still tells right from wrong.
func TestCheckPINWhileLoggedIn(t *testing.T) {
	cfg := newToken(t)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	second, err := crypto11.Configure(&crypto11.Config{Path: cfg.Module, TokenLabel: cfg.TokenLabel, Pin: "0000"})
	if err != nil {
		t.Logf("a second in-process login with a wrong PIN now fails (%v): the child check is still right", err)
	} else {
		second.Close()
	}
	ctx := context.Background()
	if err := CheckPINInChild(ctx, cfg.Module, cfg.TokenLabel, testPIN); err != nil {
		t.Errorf("right PIN: %v", err)
	}
	if err := CheckPINInChild(ctx, cfg.Module, cfg.TokenLabel, "0000"); err != hsm.ErrPINWrong {
		t.Errorf("wrong PIN: %v, want hsm.ErrPINWrong", err)
	}
	if err := CheckPINInChild(ctx, cfg.Module, cfg.TokenLabel, ""); err != hsm.ErrPINEmpty {
		t.Errorf("empty PIN: %v, want hsm.ErrPINEmpty", err)
	}
	err = CheckPINInChild(ctx, cfg.Module, "nope", testPIN)
	if !errors.Is(err, hsm.ErrUnavailable) || !strings.Contains(err.Error(), `no PKCS#11 token labelled "nope"`) {
		t.Errorf("unknown token: %v, want hsm.ErrUnavailable saying the token is not found", err)
	}
	err = CheckPINInChild(ctx, "/nonexistent.so", cfg.TokenLabel, testPIN)
	if !errors.Is(err, hsm.ErrUnavailable) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing module: %v, want hsm.ErrUnavailable", err)
	}
	if err := m.CheckPIN(ctx, testPIN); err != nil {
		t.Errorf("the manager still works after the children: %v", err)
	}
}

func TestParseCheckPINArgs(t *testing.T) {
	module, label, err := ParseCheckPINArgs(CheckPINArgs("/m.so", "-odd label")[2:])
	if err != nil || module != "/m.so" || label != "-odd label" {
		t.Errorf("round trip: %q %q %v", module, label, err)
	}
	for _, args := range [][]string{nil, {"--hsm-module", "/m.so"}, {"--hsm-module", "/m.so", "--hsm-token-label", "x", "extra"}, {"--pin", "1"}} {
		if _, _, err := ParseCheckPINArgs(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// TestPrivateMaterialStaysInToken reads the private components of generated
// and imported keys through PKCS#11: the token refuses (CKA_SENSITIVE).
func TestPrivateMaterialStaysInToken(t *testing.T) {
	m := openToken(t)
	ctx := context.Background()
	rsaKey, err := m.Generate(ctx, hsm.GenerateRequest{Label: "rsa", Algorithm: hsm.RSA, Bits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := m.Generate(ctx, hsm.GenerateRequest{Label: "ec", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := m.Import(ctx, hsm.ImportRequest{Label: "imported", PrivateKeyPEM: testECPEM(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ki   hsm.KeyInfo
		attr crypto11.AttributeType
	}{{rsaKey, crypto11.CkaPrivateExponent}, {ecKey, crypto11.CkaValue}, {imported, crypto11.CkaValue}} {
		k, err := m.find(ctx, c.ki.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := m.c11.GetAttribute(k, c.attr); err == nil && a != nil && len(a.Value) > 0 {
			t.Errorf("key %x (%s): the token revealed a private component", c.ki.ID, c.ki.Origin)
		}
		decrypt, err := m.c11.GetAttribute(k, crypto11.CkaDecrypt)
		if err != nil || len(decrypt.Value) != 1 || decrypt.Value[0] != 0 {
			t.Errorf("key %x: CKA_DECRYPT %v %v, want false (a signing key only)", c.ki.ID, decrypt, err)
		}
	}
}

// TestDeletedElsewhere deletes a key behind the manager's back (as another
// process would): the cached signer fails with not_found and is evicted.
func TestDeletedElsewhere(t *testing.T) {
	m := openToken(t)
	ctx := context.Background()
	ki, s := ecSigner(t, m)
	k, err := m.find(ctx, ki.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); !errs.Is(err, errs.NotFound) {
		t.Errorf("Sign after a delete elsewhere: %v, want not_found", err)
	}
	if _, err := m.Signer(ctx, ki.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("Signer after a delete elsewhere: %v, want not_found", err)
	}
}

// TestPoolTimeout holds the only signing session with a slow RSA 4096
// generation: a signature asked for meanwhile fails with hsm.ErrUnavailable
// after PoolWaitTimeout instead of queueing.
func TestPoolTimeout(t *testing.T) {
	cfg := newToken(t)
	cfg.MaxSessions, cfg.PoolWaitTimeout = 2, 20*time.Millisecond
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	_, s := ecSigner(t, m)
	done := make(chan error, 1)
	go func() {
		_, err := m.Generate(ctx, hsm.GenerateRequest{Label: "slow", Algorithm: hsm.RSA, Bits: 4096})
		done <- err
	}()
	digest := sha256.Sum256([]byte("x"))
	var unavailable error
	for unavailable == nil {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the RSA 4096 generation holding the session failed: %v", err)
			}
			t.Fatal("no signature timed out while the only session was busy")
		default:
		}
		if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			unavailable = err
		}
	}
	if !errors.Is(unavailable, hsm.ErrUnavailable) {
		t.Errorf("Sign with the pool exhausted: %v, want hsm.ErrUnavailable", unavailable)
	}
	if err := <-done; err != nil {
		t.Fatalf("RSA 4096 generation: %v", err)
	}
	if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Errorf("Sign once the session is free: %v", err)
	}
}

func TestClosed(t *testing.T) {
	m := openToken(t)
	ctx := context.Background()
	_, s := ecSigner(t, m)
	m.Close()
	if _, err := m.List(ctx); !errors.Is(err, hsm.ErrUnavailable) {
		t.Errorf("List after Close: %v, want hsm.ErrUnavailable", err)
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
		t.Error("a signer still signs after Close")
	}
}

// ecSigner generates an EC key and returns it with its signer.
func ecSigner(t *testing.T, m *Manager) (hsm.KeyInfo, crypto.Signer) {
	t.Helper()
	ctx := context.Background()
	ki, err := m.Generate(ctx, hsm.GenerateRequest{Label: "ec", Algorithm: hsm.EC, Curve: hsm.CurveP256})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Signer(ctx, ki.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ki, s
}

// testECPEM returns a fresh P-256 key as PKCS#8 PEM.
func testECPEM(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
