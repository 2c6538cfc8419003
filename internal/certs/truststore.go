package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// NamedCert is a truststore entry: a CA certificate under the alias Java
// tools list it by.
type NamedCert struct {
	Alias string
	Cert  *x509.Certificate
}

// TruststoreJKS writes certs as a Java KeyStore of trusted certificate
// entries, for gateways and clients on Java versions or tools that still
// expect JKS. created is every entry's creation date, so that the caller's
// clock, not this package, decides it. Aliases are lower-cased and made
// unique (see aliases), as keytool would store them.
func TruststoreJKS(certs []NamedCert, password string, created time.Time) ([]byte, error) {
	ks := keystore.New(keystore.WithOrderedAliases())
	for i, alias := range aliases(certs) {
		entry := keystore.TrustedCertificateEntry{
			CreationTime: created,
			Certificate:  keystore.Certificate{Type: "X509", Content: certs[i].Cert.Raw},
		}
		if err := ks.SetTrustedCertificateEntry(alias, entry); err != nil {
			return nil, fmt.Errorf("JKS truststore entry %q: %w", alias, err)
		}
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		return nil, fmt.Errorf("write JKS truststore: %w", err)
	}
	return buf.Bytes(), nil
}

// TruststorePKCS12 writes certs as a PKCS#12 truststore, each certificate
// in a bag marked with Java's trusted-certificate attribute so that keytool
// lists it as a trustedCertEntry under its alias.
//
// It uses go-pkcs12's Modern2023 encoder (PBES2 with PBKDF2-HMAC-SHA-256 and
// AES-256-CBC, HMAC-SHA-256 MAC) rather than LegacyDES (3DES, SHA-1 MAC):
// both are read by the `openssl pkcs12` (OpenSSL 3.0) and the `keytool`
// (OpenJDK 17) that Debian 12 ships, without -legacy, so nothing is gained
// by the weaker one. Modern2023 files need OpenSSL 1.1.1 or Java 12 (8u301
// on Java 8) and later.
func TruststorePKCS12(certs []NamedCert, password string) ([]byte, error) {
	entries := make([]pkcs12.TrustStoreEntry, len(certs))
	for i, alias := range aliases(certs) {
		entries[i] = pkcs12.TrustStoreEntry{Cert: certs[i].Cert, FriendlyName: alias}
	}
	der, err := pkcs12.Modern2023.EncodeTrustStoreEntries(entries, password)
	if err != nil {
		return nil, fmt.Errorf("write PKCS#12 truststore: %w", err)
	}
	return der, nil
}

// aliases are the entries' aliases lower-cased (Java keystores compare them
// without case), an empty one replaced by the certificate's common name,
// and repeats numbered ("acme-root", "acme-root-2"), since a keystore holds
// one entry per alias and a second would silently replace the first.
func aliases(certs []NamedCert) []string {
	out := make([]string, len(certs))
	taken := map[string]bool{}
	for i, nc := range certs {
		base := strings.ToLower(strings.TrimSpace(nc.Alias))
		if base == "" {
			base = strings.ToLower(strings.TrimSpace(nc.Cert.Subject.CommonName))
		}
		if base == "" {
			base = "certificate"
		}
		alias := base
		for n := 2; taken[alias]; n++ {
			alias = base + "-" + strconv.Itoa(n)
		}
		taken[alias] = true
		out[i] = alias
	}
	return out
}
