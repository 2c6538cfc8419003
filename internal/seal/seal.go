// Package seal encrypts secret material at rest. Every secret Keyward stores
// (key material, webhook secrets, ...) goes through a Sealer: AES-256-GCM
// under a key derived from the master key, with the owning row's identity as
// additional data so that a ciphertext copied into another row fails to open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// formatV1 prefixes every sealed value so the format can evolve.
const formatV1 = 0x01

// ErrOpen is returned when a sealed value does not open: wrong master key,
// wrong owner (additional data) or a modified ciphertext.
var ErrOpen = errors.New("sealed value does not open: wrong master key, wrong owner or corrupted data")

// Sealer seals and opens secret material under the master key.
type Sealer struct {
	master []byte
	aead   cipher.AEAD
}

// New returns a Sealer for a 32-byte master key.
func New(master []byte) (*Sealer, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(master))
	}
	k, err := hkdf.Key(sha256.New, master, nil, "keyward seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{master: append([]byte(nil), master...), aead: aead}, nil
}

// Seal encrypts plaintext for the owner named by aad, e.g.
// "environment/3/webhook-secret".
func (s *Sealer) Seal(aad string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+s.aead.Overhead())
	out = append(out, formatV1)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, plaintext, []byte(aad)), nil
}

// Open decrypts a value sealed for aad.
func (s *Sealer) Open(aad string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != formatV1 {
		return nil, ErrOpen
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// DeriveKey returns a purpose-specific key derived from the master key (for
// session cookies, the audit chain's HMAC, ...), so the master key itself is
// only ever used as HKDF input.
func (s *Sealer) DeriveKey(purpose string, size int) []byte {
	k, err := hkdf.Key(sha256.New, s.master, nil, "keyward "+purpose, size)
	if err != nil {
		panic(err) // only for size > 255*32
	}
	return k
}

// LoadOrCreateMasterKey reads the base64 master key at path, creating it
// (32 random bytes, mode 0600) when it does not exist. created reports
// whether a new key was written. A key file readable by group or others is
// refused.
func LoadOrCreateMasterKey(path string) (key []byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("create master key directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("create master key file: %w", err)
		}
		if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("write master key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("write master key file: %w", err)
		}
		return key, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read master key file: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("read master key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("master key file %s has mode %04o; it must not be readable by group or others (chmod 600 %s)", path, st.Mode().Perm(), path)
	}
	key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, false, fmt.Errorf("master key file %s must hold 32 bytes in base64", path)
	}
	return key, false, nil
}
