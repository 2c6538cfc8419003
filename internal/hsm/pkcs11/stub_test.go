//go:build !cgo

package pkcs11

import (
	"strings"
	"testing"
)

func TestBuiltWithoutPKCS11(t *testing.T) {
	_, err := New(Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "kw-test", PIN: "5678"})
	if err == nil || !strings.Contains(err.Error(), "built without PKCS#11 support") {
		t.Fatalf("New without cgo: %v", err)
	}
}
