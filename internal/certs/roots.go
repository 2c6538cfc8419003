package certs

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	// Only the bundle: importing x509roots/fallback itself would install
	// these roots as the process-wide fallback of crypto/x509, which a
	// library must not decide for the binary.
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// builtin is Mozilla's root program as golang.org/x/crypto ships it, parsed
// once: the certificates sorted by subject, an index by SHA-256, and the
// constraints NSS attaches to some roots (distrust of certificates issued
// after a date), which X.509 cannot express.
type builtin struct {
	certs       []*x509.Certificate
	bySHA256    map[string]*x509.Certificate
	constraints map[string]func([]*x509.Certificate) error
}

var builtinRoots = sync.OnceValue(func() builtin {
	b := builtin{
		bySHA256:    map[string]*x509.Certificate{},
		constraints: map[string]func([]*x509.Certificate) error{},
	}
	for r := range bundle.Roots() {
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			// The bundle is generated and tested upstream; a root that no
			// longer parses is a broken dependency, not bad input.
			panic(fmt.Sprintf("certs: builtin root does not parse: %v", err))
		}
		sum := sha256.Sum256(c.Raw)
		key := hex.EncodeToString(sum[:])
		b.certs = append(b.certs, c)
		b.bySHA256[key] = c
		if r.Constraint != nil {
			b.constraints[key] = r.Constraint
		}
	}
	slices.SortStableFunc(b.certs, func(x, y *x509.Certificate) int {
		return strings.Compare(x.Subject.String(), y.Subject.String())
	})
	return b
})

// BuiltinRoots are Mozilla's trusted roots, the read-only part of every
// environment's truststore, sorted by subject. The slice is shared: callers
// must not modify it or its certificates.
func BuiltinRoots() []*x509.Certificate {
	return builtinRoots().certs
}

// BuiltinRoot finds a builtin root by the hex SHA-256 of its DER, the
// stable id the truststore uses for builtin roots (case and colons are
// ignored).
func BuiltinRoot(sha256hex string) (*x509.Certificate, bool) {
	key := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(sha256hex), ":", ""))
	c, ok := builtinRoots().bySHA256[key]
	return c, ok
}

// rootPool builds a verification pool from roots, keeping the NSS
// constraint of any builtin root among them.
func rootPool(roots []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	constraints := builtinRoots().constraints
	for _, c := range roots {
		sum := sha256.Sum256(c.Raw)
		if f, ok := constraints[hex.EncodeToString(sum[:])]; ok {
			pool.AddCertWithConstraint(c, f)
		} else {
			pool.AddCert(c)
		}
	}
	return pool
}
