package secrets

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Export is a file to download.
type Export struct {
	FileName    string
	ContentType string
	Body        []byte
}

// Certificate export formats.
const (
	FormatPEM   = "pem"
	FormatDER   = "der"
	FormatPKCS7 = "p7b"
)

// ExportCertificate exports a certificate: in one environment as PEM, DER
// (.cer) or PKCS#7 (.p7b, with its chain), or, with no environment, every
// environment's certificate as DER in a ZIP ({name}-{environment}.cer, the
// seed product's export). SECRETS:VIEW is enough (certificates are
// public); every export is audited.
func (s *Service) ExportCertificate(ctx context.Context, p access.Principal, project, name, env, format string) (Export, error) {
	e := audit.For(p, typeCertificate.Action("export"))
	e.Project, e.Object, e.Environment = project, typeCertificate.Object(name), env
	var items []exportable
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		cert, err := loadCertificate(ctx, q, pr, name)
		if err != nil {
			return err
		}
		rows, err := q.ListCertificateConfigs(ctx, cert.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if env != "" && r.Environment.Name != env {
				continue
			}
			pc, err := storedCert(r.CertificateConfig)
			if err != nil {
				return err
			}
			items = append(items, exportable{Environment: r.Environment.Name, Cert: pc.cert, Chain: pc.chain})
		}
		if env != "" && len(items) == 0 {
			return errs.Errorf(errs.NotFound, "Certificate %q has no configuration for environment %q.", name, env)
		}
		return nil
	})
	if err != nil {
		return Export{}, s.audit.Refuse(ctx, e, err)
	}
	out, err := encodeExport(name, env, format, items)
	if err != nil {
		return Export{}, s.audit.Refuse(ctx, e, err)
	}
	e.Detail = fmt.Sprintf("%s, %d environment(s)", out.FileName, len(items))
	return out, s.audit.Record(ctx, e)
}

func encodeExport(name, env, format string, items []exportable) (Export, error) {
	if env == "" {
		files := make([]certs.ZipFile, len(items))
		for i, it := range items {
			files[i] = certs.ZipFile{Name: name + "-" + it.Environment + ".cer", Cert: it.Cert}
		}
		body, err := certs.ZipDER(files)
		return Export{FileName: name + ".zip", ContentType: "application/zip", Body: body}, err
	}
	it := items[0]
	base := name + "-" + env
	switch format {
	case "", FormatPEM:
		return Export{FileName: base + ".pem", ContentType: "application/x-pem-file", Body: certs.EncodePEM(it.Cert)}, nil
	case FormatDER:
		return Export{FileName: base + ".cer", ContentType: "application/pkix-cert", Body: it.Cert.Raw}, nil
	case FormatPKCS7:
		body, err := certs.EncodePKCS7(append([]*x509.Certificate{it.Cert}, it.Chain...))
		return Export{FileName: base + ".p7b", ContentType: "application/x-pkcs7-certificates", Body: body}, err
	}
	return Export{}, errs.FieldErrorf("format", "Format %q is not one of pem, der or p7b.", format)
}
