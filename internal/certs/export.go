package certs

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// EncodePEM writes certs as consecutive CERTIFICATE blocks, the form of a
// PEM export and of a truststore's PEM bundle.
func EncodePEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // a bytes.Buffer does not fail
	}
	return buf.Bytes()
}

// EncodePKCS7 writes certs (a certificate with its chain) as a DER
// "degenerate" PKCS#7 SignedData: certificates only, no content and no
// signers, which is what a .p7b is and what Windows, Java and OpenSSL read.
func EncodePKCS7(certs []*x509.Certificate) ([]byte, error) {
	if len(certs) == 0 {
		return nil, errors.New("encode PKCS#7: no certificates")
	}
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	der, err := pkcs7.DegenerateCertificate(raw)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#7: %w", err)
	}
	return der, nil
}

// ZipFile is one entry of a ZIP of DER certificates.
type ZipFile struct {
	Name string // "{certificateName}-{environmentName}.cer"
	Cert *x509.Certificate
}

// zipTime is the modification time of every ZIP entry: a fixed one (the
// MS-DOS epoch ZIP dates count from), so that the same certificates always
// give the same bytes and an export can be compared or cached.
var zipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// ZipDER writes files as a ZIP of DER certificates, the "all environments"
// export. Names must be plain, unique file names: the archive is opened by
// people's unzip tools, which must never be led out of their folder.
func ZipDER(files []ZipFile) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || strings.ContainsAny(f.Name, `/\`) || f.Name == "." || f.Name == ".." {
			return nil, fmt.Errorf("zip certificates: %q is not a plain file name", f.Name)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("zip certificates: %q appears twice", f.Name)
		}
		seen[f.Name] = true
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(0o644)
		fw, err := w.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip certificates: %w", err)
		}
		if _, err := fw.Write(f.Cert.Raw); err != nil {
			return nil, fmt.Errorf("zip certificates: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("zip certificates: %w", err)
	}
	return buf.Bytes(), nil
}
