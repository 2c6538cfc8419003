//go:build !cgo

package pkcs11

import (
	"os"
	"strings"
	"testing"
)

// TestBuiltWithoutPKCS11 checks the stub. Go silently drops cgo when no C
// compiler is found, which would leave the PKCS#11 backend untested, so this
// test fails unless KEYWARD_TEST_NO_CGO=1 says the cgo-less build is meant.
func TestBuiltWithoutPKCS11(t *testing.T) {
	_, err := New(Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "kw-test", PIN: "5678"})
	if err == nil || !strings.Contains(err.Error(), "built without PKCS#11 support") {
		t.Fatalf("New without cgo: %v", err)
	}
	if os.Getenv("KEYWARD_TEST_NO_CGO") != "1" {
		t.Fatal("built without cgo, so the PKCS#11 backend was not tested against SoftHSM2: install gcc " +
			"(or set CGO_ENABLED=1); set KEYWARD_TEST_NO_CGO=1 to test the cgo-less build on purpose")
	}
}
