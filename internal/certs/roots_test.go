package certs_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/certs"
)

func TestBuiltinRoots(t *testing.T) {
	roots := certs.BuiltinRoots()
	if len(roots) < 100 {
		t.Fatalf("%d builtin roots, want Mozilla's (over 100)", len(roots))
	}
	for i, c := range roots {
		if !c.IsCA || !c.BasicConstraintsValid && c.Version == 3 {
			t.Errorf("%s is no CA", c.Subject)
		}
		if i > 0 && strings.Compare(roots[i-1].Subject.String(), c.Subject.String()) > 0 {
			t.Fatalf("not sorted by subject: %q before %q", roots[i-1].Subject, c.Subject)
		}
	}
	if &certs.BuiltinRoots()[0] != &roots[0] {
		t.Error("BuiltinRoots parses the bundle again on every call")
	}
	want := map[string]bool{}
	for _, c := range roots {
		want[c.Subject.CommonName] = true
	}
	for _, cn := range []string{"ISRG Root X1", "DigiCert Global Root G2", "Amazon Root CA 1"} {
		if !want[cn] {
			t.Errorf("%q is not among the builtin roots", cn)
		}
	}

	sum := sha256.Sum256(roots[0].Raw)
	id := hex.EncodeToString(sum[:])
	for _, q := range []string{id, strings.ToUpper(id), colons(strings.ToUpper(id))} {
		if c, ok := certs.BuiltinRoot(q); !ok || !c.Equal(roots[0]) {
			t.Errorf("BuiltinRoot(%s) = %v, %v", q, c, ok)
		}
	}
	if _, ok := certs.BuiltinRoot(strings.Repeat("0", 64)); ok {
		t.Error("BuiltinRoot found an unknown root")
	}
}

func colons(h string) string {
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// TestBuiltinRootsLeaveFallbackAlone checks that the package imports the
// bundle, not x509roots/fallback, whose init installs the roots as the
// process-wide fallback: x509.SetFallbackRoots panics when called twice.
func TestBuiltinRootsLeaveFallbackAlone(t *testing.T) {
	_ = certs.BuiltinRoots()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("the fallback roots were already set: %v", r)
		}
	}()
	x509.SetFallbackRoots(x509.NewCertPool())
}
