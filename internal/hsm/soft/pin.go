package soft

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
)

// Argon2id parameters, the same as internal/auth's for passwords (OWASP's
// recommended minimum: 19 MiB, 2 passes, 1 lane), in the same encoding, so
// one hash format is in use. internal/auth's functions are not imported
// because that package brings the database and the audit log with it.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// PIN length limits for the software token, as a PKCS#11 token would have.
const (
	MinPINLength = 4
	MaxPINLength = 128
)

// HashPIN validates a new user PIN for the software token and returns its
// argon2id hash, for the service to store once and pass as Config.PINHash
// (or SetPINHash).
func HashPIN(pin string) (string, error) {
	if n := utf8.RuneCountInString(pin); n < MinPINLength || n > MaxPINLength {
		return "", errs.FieldErrorf("pin", "The user PIN must be %d to %d characters.", MinPINLength, MaxPINLength)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum)), nil
}

// validHash reports whether encoded is an argon2id hash this package reads.
func validHash(encoded string) bool {
	_, _, _, _, _, ok := decodeHash(encoded)
	return ok
}

func decodeHash(encoded string) (salt, want []byte, mem, t uint32, p uint8, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, nil, 0, 0, 0, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || t == 0 || p == 0 {
		return nil, nil, 0, 0, 0, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return nil, nil, 0, 0, 0, false
	}
	return salt, want, mem, t, p, true
}

// pinMatches compares pin with the hash in constant time.
func pinMatches(encoded, pin string) bool {
	salt, want, mem, t, p, ok := decodeHash(encoded)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// SetPINHash sets the user PIN hash once, when the first admin chooses the
// PIN (after the service has stored the hash). A second call is an
// errs.Conflict error: the PIN is set once.
func (m *Manager) SetPINHash(hash string) error {
	if !validHash(hash) {
		return fmt.Errorf("software token PIN hash is not an argon2id hash")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pinHash != "" {
		return errs.Errorf(errs.Conflict, "The software token's user PIN is already set.")
	}
	m.pinHash = hash
	return nil
}

// CheckPIN implements hsm.KeyManager: the PIN is checked against its
// argon2id hash in constant time.
func (m *Manager) CheckPIN(ctx context.Context, pin string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if pin == "" {
		return hsm.ErrPINEmpty
	}
	m.mu.Lock()
	hash := m.pinHash
	m.mu.Unlock()
	if hash == "" {
		return errs.FieldErrorf("pin", "The software token has no user PIN yet; an admin must set it first.")
	}
	if !pinMatches(hash, pin) {
		return hsm.ErrPINWrong
	}
	return nil
}
