// Package hsm is the small interface behind which Keyward keeps its JWT
// signing keys: a KeyManager generates or imports a private key inside a
// token, lists and finds keys by their CKA_ID, and hands out a crypto.Signer
// for a key without ever revealing the private material. It follows the shape
// of smallstep's kms package: request structs as arguments, one package per
// backend (pkcs11 for a real HSM through crypto11, soft for the built-in
// software token), and one conformance suite (hsmtest) that both pass.
//
// Services are the only callers; no handler touches a KeyManager.
//
// Two facts every caller must know:
//   - ECDSA signatures come back ASN.1 DER encoded, as crypto.Signer's
//     contract says. JWS (ES256) needs the 64-byte R||S form: go-jose's
//     cryptosigner.Opaque converts, and so must any other caller.
//   - RSA-PSS with rsa.PSSSaltLengthAuto is signed with the salt as long as
//     the hash (RFC 7518 §3.5), since PKCS#11 tokens refuse "auto".
package hsm

import (
	"context"
	"crypto"
	"errors"
)

// Algorithm is a signing key's algorithm family.
type Algorithm string

// The algorithms a KeyManager generates and imports.
const (
	RSA Algorithm = "RSA"
	EC  Algorithm = "EC"
)

// Origin tells a key generated inside the token (PKCS#11 CKA_LOCAL true) from
// one imported from a PEM private key.
type Origin string

// The two origins of a key.
const (
	Generated Origin = "GENERATED"
	Imported  Origin = "IMPORTED"
)

// CurveP256 is the only curve supported (prime256v1, secp256r1).
const CurveP256 = "P-256"

// Backend names, as TokenInfo.Backend reports them and the UI shows them.
const (
	BackendPKCS11 = "PKCS#11"
	BackendSoft   = "Built-in software token — no HSM configured"
)

// User PIN flags, named after the PKCS#11 CKF_USER_PIN_* token flags.
const (
	PINInitialized = "USER_PIN_INITIALIZED"
	PINCountLow    = "USER_PIN_COUNT_LOW"
	PINFinalTry    = "USER_PIN_FINAL_TRY"
	PINLocked      = "USER_PIN_LOCKED"
	PINToBeChanged = "USER_PIN_TO_BE_CHANGED"
)

// ErrUnavailable marks an error as "the HSM cannot be reached or is
// overloaded right now" (device removed, session pool exhausted, module not
// initialised). internal/errs has no such code, so backends wrap it into a
// plain error; services test errors.Is(err, hsm.ErrUnavailable) and answer
// 503 with a clear message, having changed nothing.
var ErrUnavailable = errors.New("the HSM is unavailable")

// KeyInfo describes a key pair held by a token. It never carries private
// material.
type KeyInfo struct {
	ID          []byte // CKA_ID: 16 random bytes, shown in hex
	Label       string // CKA_LABEL; two keys may share one
	Algorithm   Algorithm
	Bits        int    // 2048 or 4096 for RSA, 256 for EC
	Curve       string // "P-256" for EC, "" for RSA
	Origin      Origin
	Public      crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
	Sensitive   bool             // CKA_SENSITIVE as the token reports it
	Extractable bool             // CKA_EXTRACTABLE as the token reports it
}

// GenerateRequest asks for a key pair generated inside the token.
type GenerateRequest struct {
	Label     string
	Algorithm Algorithm
	Bits      int    // RSA: 2048 or 4096
	Curve     string // EC: "P-256"
}

// ImportRequest asks for a PEM private key to be stored in the token.
type ImportRequest struct {
	Label string
	// PrivateKeyPEM is a PKCS#1, PKCS#8 or SEC1 private key. Encrypted PEM,
	// public keys, certificates and keys other than RSA 2048/4096 or EC
	// P-256 are refused with a field error on "privateKeyPem".
	PrivateKeyPEM []byte
	// Algorithm, when set, is the algorithm the user chose: a PEM holding a
	// key of another algorithm is refused.
	Algorithm Algorithm
}

// DeleteRequest asks for a key pair to be destroyed, gated by the token's
// user PIN.
type DeleteRequest struct {
	ID  []byte
	PIN string
}

// TokenInfo describes the token a KeyManager works with, for `keyward hsm
// info` and the page header.
type TokenInfo struct {
	Backend      string // BackendPKCS11 or BackendSoft
	Label        string
	Manufacturer string
	Model        string
	Serial       string
	PINFlags     []string // PINFinalTry, PINLocked, ...
}

// KeyManager keeps signing keys inside a token. Every error meant for the user
// is an *errs.Error (field errors name "label", "algorithm", "keyLength",
// "curve", "privateKeyPem" or "pin"); errors wrapping ErrUnavailable mean the
// token cannot be reached; anything else is internal.
type KeyManager interface {
	// Generate creates a key pair inside the token: sensitive, never
	// extractable, with a fresh random CKA_ID.
	Generate(ctx context.Context, req GenerateRequest) (KeyInfo, error)
	// Import stores a PEM private key in the token, as sensitive and not
	// extractable as a generated one; its Origin is Imported.
	Import(ctx context.Context, req ImportRequest) (KeyInfo, error)
	// List returns every key pair in the token, in no promised order.
	List(ctx context.Context) ([]KeyInfo, error)
	// Find returns the key with the given CKA_ID, or an errs.NotFound error.
	Find(ctx context.Context, id []byte) (KeyInfo, error)
	// Signer returns a crypto.Signer for the key, cached per CKA_ID. After
	// Delete, a signer obtained earlier fails with an errs.NotFound error.
	Signer(ctx context.Context, id []byte) (crypto.Signer, error)
	// Delete checks the user PIN first and destroys the key pair only when
	// it is right; a wrong PIN is a field error on "pin" and deletes nothing.
	Delete(ctx context.Context, req DeleteRequest) error
	// CheckPIN reports whether pin is the token's user PIN: nil, or a field
	// error on "pin" (wrong, empty or locked).
	CheckPIN(ctx context.Context, pin string) error
	// Info describes the token, with its current PIN flags.
	Info(ctx context.Context) (TokenInfo, error)
	// Close releases the token; signers handed out stop working.
	Close() error
}
