//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"io"

	"github.com/ThalesGroup/crypto11"

	"github.com/keyward/keyward/internal/hsm"
)

// keyAttributes are the templates of a new key pair: a token object, the
// private half sensitive, never extractable and for signing only.
func keyAttributes(id []byte, label string, alg hsm.Algorithm) (public, private crypto11.AttributeSet, err error) {
	public, err = crypto11.NewAttributeSetWithIDAndLabel(id, []byte(label))
	if err != nil {
		return nil, nil, err
	}
	private = public.Copy()
	set := func(a crypto11.AttributeSet, t crypto11.AttributeType, v any) {
		if err == nil {
			err = a.Set(t, v)
		}
	}
	set(public, crypto11.CkaToken, true)
	set(public, crypto11.CkaVerify, true)
	set(private, crypto11.CkaToken, true)
	set(private, crypto11.CkaPrivate, true)
	set(private, crypto11.CkaSign, true)
	set(private, crypto11.CkaSensitive, true)
	set(private, crypto11.CkaExtractable, false)
	set(private, crypto11.CkaDecrypt, false)
	if alg == hsm.RSA {
		set(public, crypto11.CkaEncrypt, false)
	}
	return public, private, err
}

// Generate implements hsm.KeyManager.
func (m *Manager) Generate(ctx context.Context, req hsm.GenerateRequest) (hsm.KeyInfo, error) {
	if err := req.Validate(); err != nil {
		return hsm.KeyInfo{}, err
	}
	if err := m.usable(ctx); err != nil {
		return hsm.KeyInfo{}, err
	}
	id, err := hsm.NewID()
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	public, private, err := keyAttributes(id, req.Label, req.Algorithm)
	if err != nil {
		return hsm.KeyInfo{}, fmt.Errorf("key attributes: %w", err)
	}
	var k crypto11.Signer
	if req.Algorithm == hsm.RSA {
		k, err = m.c11.GenerateRSAKeyPairWithAttributes(public, private, req.Bits)
	} else {
		k, err = m.c11.GenerateECDSAKeyPairWithAttributes(public, private, elliptic.P256())
	}
	if err != nil {
		return hsm.KeyInfo{}, wrap(fmt.Sprintf("generate %s key in the token", req.Algorithm), err)
	}
	return m.describe(k)
}

// describe reads a key pair's attributes back from the token: what KeyInfo
// reports is what the token holds, not what was asked for.
func (m *Manager) describe(k crypto11.Signer) (hsm.KeyInfo, error) {
	attrs, err := m.c11.GetAttributes(k, []crypto11.AttributeType{
		crypto11.CkaId, crypto11.CkaLabel, crypto11.CkaLocal, crypto11.CkaSensitive, crypto11.CkaExtractable,
	})
	if err != nil {
		return hsm.KeyInfo{}, wrap("read key attributes", err)
	}
	alg, bits, curve, err := hsm.Describe(k.Public())
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	value := func(t crypto11.AttributeType) []byte {
		if a := attrs[t]; a != nil {
			return a.Value
		}
		return nil
	}
	truth := func(t crypto11.AttributeType) bool { v := value(t); return len(v) > 0 && v[0] != 0 }
	origin := hsm.Imported
	if truth(crypto11.CkaLocal) {
		origin = hsm.Generated
	}
	return hsm.KeyInfo{
		ID: value(crypto11.CkaId), Label: string(value(crypto11.CkaLabel)),
		Algorithm: alg, Bits: bits, Curve: curve, Origin: origin, Public: k.Public(),
		Sensitive: truth(crypto11.CkaSensitive), Extractable: truth(crypto11.CkaExtractable),
	}, nil
}

// find returns the key pair with the CKA_ID, or hsm.NotFound.
func (m *Manager) find(ctx context.Context, id []byte) (crypto11.Signer, error) {
	if err := m.usable(ctx); err != nil {
		return nil, err
	}
	if len(id) == 0 {
		return nil, hsm.NotFound(id)
	}
	keys, err := m.c11.FindKeyPairs(id, nil)
	if err != nil {
		return nil, wrap(fmt.Sprintf("find key %x", id), err)
	}
	if len(keys) == 0 {
		return nil, hsm.NotFound(id)
	}
	return keys[0], nil
}

// Find implements hsm.KeyManager.
func (m *Manager) Find(ctx context.Context, id []byte) (hsm.KeyInfo, error) {
	k, err := m.find(ctx, id)
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	return m.describe(k)
}

// List implements hsm.KeyManager. Key pairs Keyward cannot sign with (DSA,
// curves other than P-256) are left out.
func (m *Manager) List(ctx context.Context) ([]hsm.KeyInfo, error) {
	if err := m.usable(ctx); err != nil {
		return nil, err
	}
	keys, err := m.c11.FindAllKeyPairs()
	if err != nil {
		return nil, wrap("list keys", err)
	}
	out := make([]hsm.KeyInfo, 0, len(keys))
	for _, k := range keys {
		if _, _, _, err := hsm.Describe(k.Public()); err != nil {
			continue
		}
		ki, err := m.describe(k)
		if err != nil {
			return nil, err
		}
		out = append(out, ki)
	}
	return out, nil
}

// Signer implements hsm.KeyManager.
func (m *Manager) Signer(ctx context.Context, id []byte) (crypto.Signer, error) {
	return m.signers.Get(id, func() (crypto.Signer, error) {
		k, err := m.find(ctx, id)
		if err != nil {
			return nil, err
		}
		if _, _, _, err := hsm.Describe(k.Public()); err != nil {
			return nil, fmt.Errorf("key %x: %w", id, err)
		}
		return &tokenSigner{m: m, id: id, key: k}, nil
	})
}

// tokenSigner signs with a token key through crypto11 and turns its errors
// into Keyward's: a handle that no longer exists (the key was deleted, maybe
// by another process) evicts the cached signer and answers hsm.Deleted.
type tokenSigner struct {
	m   *Manager
	id  []byte
	key crypto11.Signer
}

func (s *tokenSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *tokenSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := s.key.Sign(rand, digest, opts) // opts already mapped by signers.Signer
	if err == nil {
		return sig, nil
	}
	if isHandleInvalid(err) {
		s.m.signers.Evict(s.id)
		return nil, hsm.Deleted(s.id)
	}
	return nil, wrap(fmt.Sprintf("sign with key %x", s.id), err)
}

// Delete implements hsm.KeyManager: the PIN first, then both halves of the
// pair; the cached signer is revoked.
func (m *Manager) Delete(ctx context.Context, req hsm.DeleteRequest) error {
	if err := m.CheckPIN(ctx, req.PIN); err != nil {
		return err
	}
	k, err := m.find(ctx, req.ID)
	if err != nil {
		return err
	}
	m.signers.Evict(req.ID)
	if err := k.Delete(); err != nil {
		return wrap(fmt.Sprintf("delete key %x", req.ID), err)
	}
	return nil
}
