//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/miekg/pkcs11"

	"github.com/keyward/keyward/internal/hsm"
)

// oidP256 is the DER of prime256v1's OID, the CKA_EC_PARAMS of a P-256 key.
var oidP256, _ = asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})

// Import implements hsm.KeyManager. crypto11 cannot import a private key, so
// the pair is created with C_CreateObject on the process-wide handle: the
// private object sensitive and not extractable, and the public object with
// the same CKA_ID and CKA_LABEL, without which crypto11 does not find the
// pair. The token marks both CKA_LOCAL false.
func (m *Manager) Import(ctx context.Context, req hsm.ImportRequest) (hsm.KeyInfo, error) {
	key, err := req.Parse()
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	if err := m.usable(ctx); err != nil {
		return hsm.KeyInfo{}, err
	}
	id, err := hsm.NewID()
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	private, public, err := importTemplates(id, req.Label, key)
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	defer clearSecrets(private)
	if err := m.createPair(id, private, public); err != nil {
		return hsm.KeyInfo{}, err
	}
	return m.Find(ctx, id)
}

// createPair creates the two objects in one session, destroying the private
// one when the public one cannot be created.
func (m *Manager) createPair(id []byte, private, public []*pkcs11.Attribute) error {
	sh, err := m.raw.OpenSession(m.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return wrap("open a PKCS#11 session", err)
	}
	defer m.raw.CloseSession(sh)
	priv, err := m.raw.CreateObject(sh, private)
	if err != nil {
		return wrap(fmt.Sprintf("import private key %x", id), err)
	}
	if _, err := m.raw.CreateObject(sh, public); err != nil {
		m.raw.DestroyObject(sh, priv)
		return wrap(fmt.Sprintf("import public key %x", id), err)
	}
	return nil
}

// secretAttributes are the private key's components, wiped from memory once
// they are in the token.
var secretAttributes = map[uint]bool{
	pkcs11.CKA_PRIVATE_EXPONENT: true, pkcs11.CKA_PRIME_1: true, pkcs11.CKA_PRIME_2: true,
	pkcs11.CKA_EXPONENT_1: true, pkcs11.CKA_EXPONENT_2: true, pkcs11.CKA_COEFFICIENT: true, pkcs11.CKA_VALUE: true,
}

func clearSecrets(template []*pkcs11.Attribute) {
	for _, a := range template {
		if secretAttributes[a.Type] {
			clear(a.Value)
		}
	}
}

// importTemplates returns the C_CreateObject templates of a key pair.
func importTemplates(id []byte, label string, key crypto.Signer) (private, public []*pkcs11.Attribute, err error) {
	common := func(class uint, keyType uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}
	}
	protect := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		k.Precompute()
		e := big.NewInt(int64(k.E)).Bytes()
		private = append(common(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA), protect...)
		private = append(private,
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()),
		)
		public = append(common(pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
		)
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			return nil, nil, fmt.Errorf("encode EC private key: %w", err)
		}
		point, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, nil, fmt.Errorf("encode EC public key: %w", err)
		}
		ecPoint, err := asn1.Marshal(point) // CKA_EC_POINT is a DER OCTET STRING
		if err != nil {
			return nil, nil, err
		}
		private = append(common(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC), protect...)
		private = append(private,
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, d),
		)
		public = append(common(pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, ecPoint),
		)
	default:
		return nil, nil, fmt.Errorf("import: unsupported key type %T", key)
	}
	return private, public, nil
}
