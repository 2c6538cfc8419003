package truststore

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/bundle"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Export formats of a truststore.
const (
	FormatPEM    = "pem"
	FormatJKS    = "jks"
	FormatPKCS12 = "p12"
)

// DefaultPassword is the conventional truststore password, shown as the
// default in the export form.
const DefaultPassword = "changeit"

// Export is a file to download.
type Export struct {
	FileName    string
	ContentType string
	Body        []byte
}

// Export writes an environment's truststore (what it trusts: the added CAs
// and, unless left out, the built-in roots) as a PEM bundle, a JKS or a
// PKCS#12 truststore protected by password. Every export is audited.
func (s *Service) Export(ctx context.Context, p access.Principal, envName, format, password string) (Export, error) {
	e := audit.For(p, "truststore.export")
	e.Environment, e.Object = envName, "truststore/"+envName
	t, err := s.Get(ctx, p, envName, "")
	if err != nil {
		return Export{}, s.audit.Refuse(ctx, e, err)
	}
	var named []certs.NamedCert
	for _, c := range t.Added {
		named = append(named, certs.NamedCert{Alias: c.Alias, Cert: c.Cert})
	}
	if t.BuiltinRoots {
		for _, c := range t.BuiltIn {
			named = append(named, certs.NamedCert{Alias: c.Details.Subject, Cert: c.Cert})
		}
	}
	base := "truststore-" + envName
	var out Export
	switch format {
	case "", FormatPEM:
		list := make([]*x509.Certificate, 0, len(named))
		for _, n := range named {
			list = append(list, n.Cert)
		}
		out = Export{FileName: base + ".pem", ContentType: "application/x-pem-file", Body: certs.EncodePEM(list...)}
	case FormatJKS, FormatPKCS12:
		if password == "" {
			return Export{}, s.audit.Refuse(ctx, e, errs.FieldErrorf("password", "Give the truststore a password (the usual one is %q).", DefaultPassword))
		}
		if format == FormatJKS {
			out.Body, err = certs.TruststoreJKS(named, password, s.clock.Now())
			out.FileName, out.ContentType = base+".jks", "application/x-java-keystore"
		} else {
			out.Body, err = certs.TruststorePKCS12(named, password)
			out.FileName, out.ContentType = base+".p12", "application/x-pkcs12"
		}
		if err != nil {
			return Export{}, err
		}
	default:
		return Export{}, s.audit.Refuse(ctx, e, errs.FieldErrorf("format", "Format %q is not one of pem, jks or p12.", format))
	}
	e.Detail = fmt.Sprintf("%s, %d certificates", out.FileName, len(named))
	return out, s.audit.Record(ctx, e)
}

// Contributor is the truststore's section of the gateway bundle.
func (s *Service) Contributor() bundle.Contributor { return contributor{} }

type contributor struct{}

func (contributor) Contribute(ctx context.Context, q *queries.Queries, env queries.Environment, b *bundle.Bundle) error {
	rows, err := q.ListTruststoreCAs(ctx, env.ID)
	if err != nil {
		return fmt.Errorf("truststore: %w", err)
	}
	b.Truststore.BuiltInRoots = env.BuiltinRoots
	for _, r := range rows {
		c, err := x509.ParseCertificate(r.Der)
		if err != nil {
			return fmt.Errorf("truststore CA %s: %w", r.Sha256, err)
		}
		b.Truststore.CAs = append(b.Truststore.CAs, bundle.TrustedCA{Alias: r.Alias, SubjectDN: r.Subject, EndDate: r.NotAfter,
			SHA256: r.Sha256, PEM: string(certs.EncodePEM(c))})
	}
	return nil
}
