package secrets

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// UpdateCertificate replaces a certificate's description and
// configurations, as UpdateKey does for keys: a configuration without
// content keeps its certificate, environments left out are undeployed and
// removed, and related JWKs follow the JWK Connection choice (a plain save
// rebuilds them without deploying).
func (s *Service) UpdateCertificate(ctx context.Context, p access.Principal, project, name string, in CertificateInput, deployNow bool, jwkAction string) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeCertificate.Action("update"), Object: typeCertificate.Object(name), Perms: managePerms(deployNow)}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		action, err := updateAction(jwkAction, deployNow)
		if err != nil {
			return err
		}
		cert, err := loadCertificate(ctx, q, o.Project, name)
		if err != nil {
			return err
		}
		if err := names.ValidateDescription("description", in.Description); err != nil {
			return err
		}
		rows, err := q.ListCertificateConfigs(ctx, cert.ID)
		if err != nil {
			return err
		}
		keep := map[string]parsedCert{}
		byEnv := map[string]queries.ListCertificateConfigsRow{}
		for _, r := range rows {
			pc, err := storedCert(r.CertificateConfig)
			if err != nil {
				return fmt.Errorf("certificate %q in %q: %w", name, r.Environment.Name, err)
			}
			keep[r.Environment.Name], byEnv[r.Environment.Name] = pc, r
		}
		configs, err := s.prepareCertConfigs(ctx, q, o.Project, cert.ID, in, keep)
		if err != nil {
			return err
		}
		if err := q.UpdateCertificate(ctx, queries.UpdateCertificateParams{Description: strings.TrimSpace(in.Description), UpdatedAt: s.clock.Now(), ID: cert.ID}); err != nil {
			return err
		}
		changed := map[string]SourceMaterial{}
		listed := map[string]bool{}
		for _, pc := range configs {
			listed[pc.Env.Name] = true
			var cur *queries.CertificateConfig
			if row, ok := byEnv[pc.Env.Name]; ok {
				cc := row.CertificateConfig
				cur = &cc
			}
			cc, err := s.storeCertConfig(ctx, q, cert, pc, cur)
			if err != nil {
				return err
			}
			if pc.Parsed.fresh {
				m, err := certMaterial(pc.Field+".content", pc.Parsed.cert, pc.Parsed.chain)
				if err != nil {
					return err
				}
				changed[pc.Env.Name] = m
			}
			if deployNow {
				if err := o.Deploy(ctx, q, s.certTarget(ctx, q, cert, cc, pc.Env)); err != nil {
					return err
				}
			}
		}
		for envName, row := range byEnv {
			if listed[envName] {
				continue
			}
			if row.CertificateConfig.DeployedRevision.Valid {
				t := s.certTarget(ctx, q, cert, row.CertificateConfig, row.Environment)
				t.Detail = ""
				if err := o.Undeploy(ctx, q, t); err != nil {
					return err
				}
			}
			if err := q.DeleteCertificateConfig(ctx, row.CertificateConfig.ID); err != nil {
				return err
			}
		}
		if err := s.followSourceUpdate(ctx, q, o, certSource{cert: cert}, changed, action, deployNow); err != nil {
			return err
		}
		if err := o.Record(ctx, q, typeCertificate.Action("update"), typeCertificate.Object(name), "", "jwk action "+action); err != nil {
			return err
		}
		result = o.Result(typeCertificate, deploy.Deploy)
		return nil
	})
	return result, err
}

// DeleteCertificate deletes a certificate, undeploying it everywhere; its
// JWKs are deleted (DELETE) or disconnected (NULLIFY, the default).
func (s *Service) DeleteCertificate(ctx context.Context, p access.Principal, project, name, jwkAction string) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeCertificate.Action("delete"), Object: typeCertificate.Object(name), Perms: deployPerms}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		action, err := deleteAction(jwkAction)
		if err != nil {
			return err
		}
		cert, err := loadCertificate(ctx, q, o.Project, name)
		if err != nil {
			return err
		}
		rows, err := q.ListCertificateConfigs(ctx, cert.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if !r.CertificateConfig.DeployedRevision.Valid {
				continue
			}
			t := s.certTarget(ctx, q, cert, r.CertificateConfig, r.Environment)
			t.Detail = ""
			if err := o.Undeploy(ctx, q, t); err != nil {
				return err
			}
		}
		if err := s.followSourceDelete(ctx, q, o, certSource{cert: cert}, action); err != nil {
			return err
		}
		if err := q.DeleteCertificate(ctx, cert.ID); err != nil {
			return err
		}
		if err := o.Record(ctx, q, typeCertificate.Action("delete"), typeCertificate.Object(name), "", "jwk action "+action); err != nil {
			return err
		}
		result = o.Result(typeCertificate, deploy.Undeploy)
		return nil
	})
	return result, err
}

// storedCert reads a stored configuration's certificate and chain.
func storedCert(cc queries.CertificateConfig) (parsedCert, error) {
	c, err := x509.ParseCertificate(cc.Der)
	if err != nil {
		return parsedCert{}, err
	}
	chain, err := parseChainPEM(cc.ChainPem)
	return parsedCert{cert: c, chain: chain}, err
}

// certMaterial is a certificate's public key as JWK material, with x5c.
func certMaterial(field string, c *x509.Certificate, chain []*x509.Certificate) (SourceMaterial, error) {
	k, err := keymaterial.FromCertificate(field, c, chain)
	return SourceMaterial{Key: k, Chain: chain}, err
}
