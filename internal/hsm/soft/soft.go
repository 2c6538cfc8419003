// Package soft is the built-in software token: the KeyManager Keyward uses
// when no HSM is configured. Keys are generated in Go (or imported), their
// private halves sealed with the master key (internal/seal) and kept in a
// Store; signing happens in process. Like a token, it never hands private
// material out: no method returns it, and its signers expose only Public and
// Sign. Its user PIN is its own, set once and kept as an argon2id hash.
package soft

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/internal/signers"
)

// Sealer encrypts private keys at rest; *seal.Sealer satisfies it.
type Sealer interface {
	Seal(aad string, plaintext []byte) ([]byte, error)
	Open(aad string, sealed []byte) ([]byte, error)
}

// Config is what the software token needs.
type Config struct {
	Store  Store
	Sealer Sealer
	// PINHash is the user PIN's argon2id hash (HashPIN), or "" until the
	// first admin sets it with SetPINHash.
	PINHash string
}

// Manager is the software token. It implements hsm.KeyManager.
type Manager struct {
	store   Store
	sealer  Sealer
	signers signers.Cache

	mu      sync.Mutex
	pinHash string
}

var _ hsm.KeyManager = (*Manager)(nil)

// New returns the software token over cfg's Store and Sealer.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("software token: a Store and a Sealer are required")
	}
	if cfg.PINHash != "" && !validHash(cfg.PINHash) {
		return nil, errors.New("software token: the PIN hash is not an argon2id hash")
	}
	return &Manager{store: cfg.Store, sealer: cfg.Sealer, pinHash: cfg.PINHash}, nil
}

// sealOwner names a key's sealed value, so a sealed key copied onto another
// record does not open.
func sealOwner(id []byte) string { return "hsm-soft/key/" + hex.EncodeToString(id) }

// Generate implements hsm.KeyManager.
func (m *Manager) Generate(ctx context.Context, req hsm.GenerateRequest) (hsm.KeyInfo, error) {
	if err := req.Validate(); err != nil {
		return hsm.KeyInfo{}, err
	}
	var key crypto.Signer
	var err error
	if req.Algorithm == hsm.RSA {
		key, err = rsa.GenerateKey(rand.Reader, req.Bits)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("generate %s key: %w", req.Algorithm, err)
	}
	return m.keep(ctx, req.Label, hsm.Generated, key)
}

// Import implements hsm.KeyManager.
func (m *Manager) Import(ctx context.Context, req hsm.ImportRequest) (hsm.KeyInfo, error) {
	key, err := req.Parse()
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	return m.keep(ctx, req.Label, hsm.Imported, key)
}

// keep seals key under a new CKA_ID and stores its record.
func (m *Manager) keep(ctx context.Context, label string, origin hsm.Origin, key crypto.Signer) (hsm.KeyInfo, error) {
	alg, bits, curve, err := hsm.Describe(key.Public())
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	id, err := hsm.NewID()
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("encode private key: %w", err)
	}
	sealed, err := m.sealer.Seal(sealOwner(id), der)
	clear(der)
	if err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("seal private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("encode public key: %w", err)
	}
	r := Record{ID: id, Label: label, Algorithm: alg, Bits: bits, Curve: curve, Origin: origin, SealedKey: sealed, PublicDER: pub}
	if err := m.store.Put(ctx, r); err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("store key %x: %w", id, err)
	}
	return info(r)
}

// info describes a record; the software token's keys are sensitive and not
// extractable by construction.
func info(r Record) (hsm.KeyInfo, error) {
	pub, err := x509.ParsePKIXPublicKey(r.PublicDER)
	if err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("key %x: parse public key: %w", r.ID, err)
	}
	return hsm.KeyInfo{
		ID: r.ID, Label: r.Label, Algorithm: r.Algorithm, Bits: r.Bits, Curve: r.Curve, Origin: r.Origin,
		Public: pub, Sensitive: true, Extractable: false,
	}, nil
}

// List implements hsm.KeyManager.
func (m *Manager) List(ctx context.Context) ([]hsm.KeyInfo, error) {
	records, err := m.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list software token keys: %w", err)
	}
	out := make([]hsm.KeyInfo, 0, len(records))
	for _, r := range records {
		ki, err := info(r)
		if err != nil {
			return nil, err
		}
		out = append(out, ki)
	}
	return out, nil
}

// Find implements hsm.KeyManager.
func (m *Manager) Find(ctx context.Context, id []byte) (hsm.KeyInfo, error) {
	r, err := m.store.Get(ctx, id)
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	return info(r)
}

// Signer implements hsm.KeyManager: the private key is opened once and kept
// in memory inside the cached signer.
func (m *Manager) Signer(ctx context.Context, id []byte) (crypto.Signer, error) {
	return m.signers.Get(id, func() (crypto.Signer, error) {
		r, err := m.store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return m.open(r)
	})
}

// open unseals a record's private key and checks it matches its public key.
func (m *Manager) open(r Record) (crypto.Signer, error) {
	der, err := m.sealer.Open(sealOwner(r.ID), r.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("open key %x: %w", r.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("open key %x: %w", r.ID, err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("open key %x: %T is not a signing key", r.ID, parsed)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil || string(pub) != string(r.PublicDER) {
		return nil, fmt.Errorf("open key %x: the private key does not match the stored public key", r.ID)
	}
	return key, nil
}

// Delete implements hsm.KeyManager: PIN first, then the record; the cached
// signer is revoked.
func (m *Manager) Delete(ctx context.Context, req hsm.DeleteRequest) error {
	if err := m.CheckPIN(ctx, req.PIN); err != nil {
		return err
	}
	if err := m.store.Delete(ctx, req.ID); err != nil {
		return err
	}
	m.signers.Evict(req.ID)
	return nil
}

// Info implements hsm.KeyManager.
func (m *Manager) Info(context.Context) (hsm.TokenInfo, error) {
	ti := hsm.TokenInfo{Backend: hsm.BackendSoft, Label: "keyward", Manufacturer: "Keyward", Model: "software token"}
	m.mu.Lock()
	if m.pinHash != "" {
		ti.PINFlags = []string{hsm.PINInitialized}
	}
	m.mu.Unlock()
	return ti, nil
}

// Close implements hsm.KeyManager: cached signers stop working.
func (m *Manager) Close() error {
	m.signers.EvictAll()
	return nil
}
