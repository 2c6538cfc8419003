package secrets

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// typeCertificate is the certificates' item type.
const typeCertificate = deploy.ObjectCertificate

// SourceURL is a certificate fetched from a TLS server (seed 001's "Receive
// via HTTPS/LDAPS Connection"); the chain fetched is the content.
const SourceURL = "URL"

// CertConfigInput is one environment's certificate as submitted.
type CertConfigInput struct {
	Field       string
	Environment string
	Alias       string
	Source      string // URL, FILE, CLIPBOARD or API
	URL         string // Source URL: where the chain was fetched
	FileName    string
	Content     []byte // on update, nil keeps the environment's certificate
	Encoding    string // a paste: certs.EncodingBase64 or certs.EncodingBase64PEM
	Password    string // PKCS#12
	Pick        int    // which certificate of those the content holds (0: the first, a chain's leaf)
}

// Ref gives the publication pipeline the entry's field, environment and
// alias.
func (c CertConfigInput) Ref() (string, string, string) { return c.Field, c.Environment, c.Alias }

// CertificateInput is a certificate as submitted for create or update.
type CertificateInput struct {
	Name        string
	Description string
	Configs     []CertConfigInput
	ListField   string
}

// parsedCert is a configuration's certificate: the one stored, the
// certificates given with it that issued it, and whether it is new.
type parsedCert struct {
	cert   *x509.Certificate
	chain  []*x509.Certificate
	notice string
	fresh  bool // new content (false: the stored certificate is kept)
}

type certConfig = publish.Prepared[CertConfigInput, parsedCert]

// certParser is the certificate type's parse function for the pipeline.
type certParser struct {
	project queries.Project
	certID  int64                 // 0 on create
	keep    map[string]parsedCert // the stored certificates by environment, on update
	q       *queries.Queries
	ctx     context.Context
}

func (cp *certParser) parse(field string, c CertConfigInput, env queries.Environment) (parsedCert, error) {
	var pc parsedCert
	if c.Content == nil && cp.keep != nil {
		cur, ok := cp.keep[env.Name]
		if !ok {
			return pc, errs.FieldErrorf(field+".content", "The certificate is required: it has none in environment %q yet.", env.Name)
		}
		pc = cur
	} else {
		var err error
		if pc, err = pickCertificate(field, c); err != nil {
			return pc, err
		}
	}
	if c.Alias != "" {
		owner, err := cp.q.CertificateAliasOwner(cp.ctx, queries.CertificateAliasOwnerParams{ProjectID: cp.project.ID,
			EnvironmentID: env.ID, Alias: c.Alias, CertificateID: cp.certID})
		if err == nil {
			return pc, errs.FieldErrorf(field+".alias", "Alias %q is already used by certificate %q in environment %q.", c.Alias, owner, env.Name)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return pc, err
		}
	}
	return pc, nil
}

// pickCertificate parses an input and takes the chosen certificate; the
// ones after it (its issuers, in a leaf-first chain) are its chain.
func pickCertificate(field string, c CertConfigInput) (parsedCert, error) {
	parsed, err := certs.Parse(certs.Input{Field: field + ".content", FileName: c.FileName, Content: c.Content, Encoding: c.Encoding, Password: c.Password})
	if err != nil {
		return parsedCert{}, err
	}
	if c.Pick < 0 || c.Pick >= len(parsed.Certificates) {
		return parsedCert{}, errs.FieldErrorf(field+".pick", "Choose one of the %d certificate(s) the content holds.", len(parsed.Certificates))
	}
	return parsedCert{cert: parsed.Certificates[c.Pick], chain: parsed.Certificates[c.Pick+1:], notice: parsed.Notice, fresh: true}, nil
}

// chainPEM encodes a chain for storage.
func chainPEM(chain []*x509.Certificate) string { return string(certs.EncodePEM(chain...)) }

// parseChainPEM reads a stored chain.
func parseChainPEM(s string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("stored chain: %w", err)
		}
		out = append(out, c)
	}
}

func (s *Service) prepareCertConfigs(ctx context.Context, q *queries.Queries, project queries.Project, certID int64, in CertificateInput, keep map[string]parsedCert) ([]certConfig, error) {
	cp := &certParser{project: project, certID: certID, keep: keep, q: q, ctx: ctx}
	return publish.Prepare(ctx, q, in.ListField, in.Configs, cp.parse)
}

// storeCertConfig writes one configuration (only the alias when the
// certificate was kept).
func (s *Service) storeCertConfig(ctx context.Context, q *queries.Queries, cert queries.Certificate, pc certConfig, current *queries.CertificateConfig) (queries.CertificateConfig, error) {
	now := s.clock.Now()
	if !pc.Parsed.fresh && current != nil {
		if err := q.UpdateCertificateConfigAlias(ctx, queries.UpdateCertificateConfigAliasParams{Alias: pc.In.Alias, UpdatedAt: now, ID: current.ID}); err != nil {
			return queries.CertificateConfig{}, err
		}
		current.Alias = pc.In.Alias
		return *current, nil
	}
	d := certs.Describe(pc.Parsed.cert, now)
	url := ""
	if pc.In.Source == SourceURL {
		url = pc.In.URL
	}
	return q.UpsertCertificateConfig(ctx, queries.UpsertCertificateConfigParams{
		CertificateID: cert.ID, ProjectID: cert.ProjectID, EnvironmentID: pc.Env.ID, Source: sourceOr(pc.In.Source), SourceUrl: url,
		FileName: pc.In.FileName, Alias: pc.In.Alias, Der: pc.Parsed.cert.Raw, ChainPem: chainPEM(pc.Parsed.chain),
		Subject: d.Subject, Issuer: d.Issuer, Serial: d.Serial, NotBefore: d.NotBefore, NotAfter: d.NotAfter,
		Sha1: d.SHA1, Sha256: d.SHA256, CreatedAt: now, UpdatedAt: now,
	})
}

// certTarget is a certificate configuration as the deploy helper takes it.
func (s *Service) certTarget(ctx context.Context, q *queries.Queries, cert queries.Certificate, cc queries.CertificateConfig, env queries.Environment) publish.Target {
	return publish.Target{Type: typeCertificate, Name: cert.Name, Env: env, Detail: "sha256 " + cc.Sha256, Mark: func(rev int64) error {
		if rev == 0 {
			return q.SetCertificateConfigDeployed(ctx, queries.SetCertificateConfigDeployedParams{ID: cc.ID})
		}
		return q.SetCertificateConfigDeployed(ctx, queries.SetCertificateConfigDeployedParams{
			DeployedRevision: sql.NullInt64{Int64: rev, Valid: true}, DeployedAt: sql.NullTime{Time: s.clock.Now(), Valid: true},
			DeployedDer: cc.Der, DeployedChainPem: cc.ChainPem, DeployedSha256: cc.Sha256, ID: cc.ID,
		})
	}}
}

// CreateCertificate creates a certificate with its configurations and,
// when deployNow, deploys every one.
func (s *Service) CreateCertificate(ctx context.Context, p access.Principal, project string, in CertificateInput, deployNow bool) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeCertificate.Action("create"), Object: typeCertificate.Object(in.Name), Perms: managePerms(deployNow)}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		if err := names.ValidateItem("name", "Certificate", in.Name); err != nil {
			return err
		}
		if err := names.ValidateDescription("description", in.Description); err != nil {
			return err
		}
		if _, err := q.GetCertificateByName(ctx, queries.GetCertificateByNameParams{ProjectID: o.Project.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A certificate named %q already exists in project %q.", in.Name, project)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		configs, err := s.prepareCertConfigs(ctx, q, o.Project, 0, in, nil)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		cert, err := q.CreateCertificate(ctx, queries.CreateCertificateParams{ProjectID: o.Project.ID, Name: in.Name,
			Description: strings.TrimSpace(in.Description), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		envs := make([]string, len(configs))
		for i, pc := range configs {
			envs[i] = pc.Env.Name
			cc, err := s.storeCertConfig(ctx, q, cert, pc, nil)
			if err != nil {
				return err
			}
			if deployNow {
				if err := o.Deploy(ctx, q, s.certTarget(ctx, q, cert, cc, pc.Env)); err != nil {
					return err
				}
			}
		}
		if err := o.Record(ctx, q, typeCertificate.Action("create"), typeCertificate.Object(cert.Name), "", "environments: "+strings.Join(envs, ", ")); err != nil {
			return err
		}
		result = o.Result(typeCertificate, deploy.Deploy)
		return nil
	})
	return result, err
}

func loadCertificate(ctx context.Context, q *queries.Queries, project queries.Project, name string) (queries.Certificate, error) {
	c, err := q.GetCertificateByName(ctx, queries.GetCertificateByNameParams{ProjectID: project.ID, Name: name})
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("Certificate", name, project.Name)
	}
	if err != nil {
		return c, fmt.Errorf("load certificate %q: %w", name, err)
	}
	return c, nil
}

// DeployCertificate deploys (or, when undeploy, withdraws) a certificate's
// configuration in one environment.
func (s *Service) DeployCertificate(ctx context.Context, p access.Principal, project, name, envName string, undeploy bool) (*DeploymentResult, error) {
	verb := deploy.Deploy
	if undeploy {
		verb = deploy.Undeploy
	}
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Environment: envName, Action: typeCertificate.Action(verb), Object: typeCertificate.Object(name), Perms: deployPerms}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		cert, err := loadCertificate(ctx, q, o.Project, name)
		if err != nil {
			return err
		}
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		cc, err := q.GetCertificateConfig(ctx, queries.GetCertificateConfigParams{CertificateID: cert.ID, EnvironmentID: env.ID})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Errorf(errs.NotFound, "Certificate %q has no configuration for environment %q.", name, envName)
		} else if err != nil {
			return err
		}
		t := s.certTarget(ctx, q, cert, cc, env)
		if undeploy {
			if !cc.DeployedRevision.Valid {
				return errs.Errorf(errs.Conflict, "Certificate %q is not deployed to environment %q.", name, envName)
			}
			t.Detail = ""
			err = o.Undeploy(ctx, q, t)
		} else {
			err = o.Deploy(ctx, q, t)
		}
		if err != nil {
			return err
		}
		result = o.Result(typeCertificate, verb)
		return nil
	})
	return result, err
}
