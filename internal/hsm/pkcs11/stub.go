//go:build !cgo

package pkcs11

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keyward/keyward/internal/hsm"
)

// errNoPKCS11 is what every entry point answers in a build without cgo.
var errNoPKCS11 = errors.New("built without PKCS#11 support: rebuild Keyward with CGO_ENABLED=1 to use an HSM")

// Manager stands in for the PKCS#11 KeyManager in a build without cgo.
type Manager struct{}

var _ hsm.KeyManager = (*Manager)(nil)

// New answers that this build has no PKCS#11 support.
func New(Config) (*Manager, error) { return nil, errNoPKCS11 }

// RunCheckPIN answers that this build has no PKCS#11 support (exit 2).
func RunCheckPIN(io.Reader, string, string) int {
	fmt.Fprintln(os.Stderr, "keyward hsm check-pin:", errNoPKCS11)
	return checkPINFailed
}

// Generate implements hsm.KeyManager.
func (*Manager) Generate(context.Context, hsm.GenerateRequest) (hsm.KeyInfo, error) {
	return hsm.KeyInfo{}, errNoPKCS11
}

// Import implements hsm.KeyManager.
func (*Manager) Import(context.Context, hsm.ImportRequest) (hsm.KeyInfo, error) {
	return hsm.KeyInfo{}, errNoPKCS11
}

// List implements hsm.KeyManager.
func (*Manager) List(context.Context) ([]hsm.KeyInfo, error) { return nil, errNoPKCS11 }

// Find implements hsm.KeyManager.
func (*Manager) Find(context.Context, []byte) (hsm.KeyInfo, error) { return hsm.KeyInfo{}, errNoPKCS11 }

// Signer implements hsm.KeyManager.
func (*Manager) Signer(context.Context, []byte) (crypto.Signer, error) { return nil, errNoPKCS11 }

// Delete implements hsm.KeyManager.
func (*Manager) Delete(context.Context, hsm.DeleteRequest) error { return errNoPKCS11 }

// CheckPIN implements hsm.KeyManager.
func (*Manager) CheckPIN(context.Context, string) error { return errNoPKCS11 }

// Info implements hsm.KeyManager.
func (*Manager) Info(context.Context) (hsm.TokenInfo, error) { return hsm.TokenInfo{}, errNoPKCS11 }

// Close implements hsm.KeyManager.
func (*Manager) Close() error { return nil }
