package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyward/keyward/internal/errs"
)

// MaxLabelLength is the longest label, in characters.
const MaxLabelLength = 200

// IDLength is the length in bytes of the CKA_ID given to every new key.
const IDLength = 16

// ValidateLabel checks a key label: 1 to 200 characters of valid UTF-8, not
// blank, with no control characters.
func ValidateLabel(label string) error {
	switch {
	case strings.TrimSpace(label) == "":
		return errs.FieldErrorf("label", "Label is required.")
	case !utf8.ValidString(label):
		return errs.FieldErrorf("label", "Label must be valid UTF-8 text.")
	case utf8.RuneCountInString(label) > MaxLabelLength:
		return errs.FieldErrorf("label", "Label must be at most %d characters.", MaxLabelLength)
	case strings.IndexFunc(label, unicode.IsControl) >= 0:
		return errs.FieldErrorf("label", "Label must not contain control characters such as line breaks or tabs.")
	}
	return nil
}

// Validate checks a GenerateRequest: a valid label, RSA with 2048 or 4096
// bits, or EC on P-256.
func (r GenerateRequest) Validate() error {
	if err := ValidateLabel(r.Label); err != nil {
		return err
	}
	switch r.Algorithm {
	case RSA:
		if r.Bits != 2048 && r.Bits != 4096 {
			return errs.FieldErrorf("keyLength", "RSA key length must be 2048 or 4096 bits.")
		}
		if r.Curve != "" {
			return errs.FieldErrorf("curve", "A curve applies to EC keys only; leave it empty for RSA.")
		}
	case EC:
		if r.Curve != CurveP256 {
			return errs.FieldErrorf("curve", "Curve must be P-256 (prime256v1).")
		}
		if r.Bits != 0 && r.Bits != 256 {
			return errs.FieldErrorf("keyLength", "A P-256 key is 256 bits; leave the key length empty for EC.")
		}
	default:
		return errs.FieldErrorf("algorithm", "Algorithm must be RSA or EC.")
	}
	return nil
}

// NewID returns a fresh random CKA_ID of IDLength bytes.
func NewID() ([]byte, error) {
	id := make([]byte, IDLength)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("generate CKA_ID: %w", err)
	}
	return id, nil
}

// Describe returns the algorithm, size in bits and curve name of a public
// key, or an error for a key type Keyward does not sign with.
func Describe(pub crypto.PublicKey) (alg Algorithm, bits int, curve string, err error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return RSA, k.N.BitLen(), "", nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", 0, "", fmt.Errorf("unsupported curve %s", k.Curve.Params().Name)
		}
		return EC, 256, CurveP256, nil
	default:
		return "", 0, "", fmt.Errorf("unsupported public key type %T", pub)
	}
}

// NotFound is the error for a CKA_ID the token does not hold.
func NotFound(id []byte) error {
	return errs.Errorf(errs.NotFound, "No signing key with CKA_ID %x.", id)
}

// Deleted is the error a signer returns once its key has been deleted.
func Deleted(id []byte) error {
	return errs.Errorf(errs.NotFound, "Signing key %x has been deleted.", id)
}

// PIN errors shared by the backends, all field errors on "pin".
var (
	ErrPINEmpty  = errs.FieldErrorf("pin", "Enter the token's user PIN.")
	ErrPINWrong  = errs.FieldErrorf("pin", "The user PIN is wrong.")
	ErrPINLocked = errs.FieldErrorf("pin", "The token's user PIN is locked; the token's security officer must unlock it.")
)

// SignerOpts returns opts as a token expects them: rsa.PSSSaltLengthAuto
// becomes rsa.PSSSaltLengthEqualsHash, the salt length RFC 7518 §3.5 asks
// for PS256/384/512. crypto11 refuses "auto", and go-jose's cryptosigner
// sends it for PS256.
func SignerOpts(opts crypto.SignerOpts) crypto.SignerOpts {
	if pss, ok := opts.(*rsa.PSSOptions); ok && pss.SaltLength == rsa.PSSSaltLengthAuto {
		return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: pss.Hash}
	}
	return opts
}
