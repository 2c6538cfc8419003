package secrets

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/keyward/keyward/internal/bundle"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// Bundle types, as the gateway bundle carries them.
type (
	Bundle    = bundle.Bundle
	BundleKey = bundle.Key
	BundleJWK = bundle.JWK
)

// BundleContributors are this area's sections of the gateway bundle: the
// deployed keys (with their material) and JWKs (secret ones included).
func (s *Service) BundleContributors() []bundle.Contributor {
	return []bundle.Contributor{keyContributor{s}, jwkContributor{s}, certContributor{s}}
}

type certContributor struct{ s *Service }

func (c certContributor) Contribute(ctx context.Context, q *queries.Queries, env queries.Environment, b *bundle.Bundle) error {
	rows, err := q.ListDeployedCertificateConfigs(ctx, env.ID)
	if err != nil {
		return fmt.Errorf("deployed certificates: %w", err)
	}
	for _, r := range rows {
		cert, err := x509.ParseCertificate(r.CertificateConfig.DeployedDer)
		if err != nil {
			return fmt.Errorf("certificate %q: %w", r.CertificateName, err)
		}
		b.Certificates = append(b.Certificates, bundle.Certificate{Project: r.ProjectName, Name: r.CertificateName,
			Alias: r.CertificateConfig.Alias, SubjectDN: cert.Subject.String(), EndDate: cert.NotAfter,
			SHA256: r.CertificateConfig.DeployedSha256, DeployedRevision: r.CertificateConfig.DeployedRevision.Int64,
			PEM: string(certs.EncodePEM(cert)) + r.CertificateConfig.DeployedChainPem})
	}
	return nil
}

type keyContributor struct{ s *Service }

func (c keyContributor) Contribute(ctx context.Context, q *queries.Queries, env queries.Environment, b *bundle.Bundle) error {
	keys, err := q.ListDeployedKeyConfigs(ctx, env.ID)
	if err != nil {
		return fmt.Errorf("deployed keys: %w", err)
	}
	for _, k := range keys {
		raw, err := c.s.sealer.Open(publish.SealBinding(typeKey, k.KeyConfig.KeyID, env.ID)+"/deployed", k.KeyConfig.DeployedMaterial)
		if err != nil {
			return fmt.Errorf("open key %q: %w", k.KeyName, err)
		}
		b.Keys = append(b.Keys, bundle.Key{Project: k.ProjectName, Name: k.KeyName, KeyType: k.KeyType, Algorithm: k.Algorithm,
			Alias: k.KeyConfig.Alias, Fingerprint: k.KeyConfig.DeployedFingerprint, DeployedRevision: k.KeyConfig.DeployedRevision.Int64,
			Content: base64.StdEncoding.EncodeToString(raw)})
	}
	return nil
}

type jwkContributor struct{ s *Service }

func (c jwkContributor) Contribute(ctx context.Context, q *queries.Queries, env queries.Environment, b *bundle.Bundle) error {
	jwks, err := q.ListDeployedJWKConfigs(ctx, env.ID)
	if err != nil {
		return fmt.Errorf("deployed JWKs: %w", err)
	}
	for _, j := range jwks {
		raw := []byte(j.JwkConfig.DeployedJson)
		if j.Secret {
			if raw, err = c.s.sealer.Open(publish.SealBinding(typeJWK, j.JwkConfig.JwkID, env.ID)+"/deployed", j.JwkConfig.DeployedSealed); err != nil {
				return fmt.Errorf("open JWK %q: %w", j.JwkName, err)
			}
		}
		b.JWKs = append(b.JWKs, bundle.JWK{Project: j.ProjectName, Name: j.JwkName, Kid: j.JwkConfig.Kid, Secret: j.Secret,
			DeployedRevision: j.JwkConfig.DeployedRevision.Int64, JWK: raw})
	}
	return nil
}
