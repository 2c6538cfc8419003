// Package secrets is the "Secrets Management" area: keys (seed 000, API
// seed 002) and the JWKs made from them (and, next, certificates). Keys and
// JWKs share one service because a source's update or deletion must update,
// disconnect or delete its JWKs in the same transaction.
//
// Every write runs through publish.Writer: one transaction that checks
// permissions first, validates, seals material, records deployments and
// audits; after the commit the publisher tells webhooks and the JWKS cache.
// A refused write changes nothing but the audit log, which records the
// refusal.
package secrets

import (
	"context"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/certfetch"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/internal/seal"
	"github.com/keyward/keyward/queries"
)

// Service manages keys and JWKs.
type Service struct {
	db      *db.DB
	audit   *audit.Log
	clock   clock.Clock
	sealer  *seal.Sealer
	writer  *publish.Writer
	jwkSets *JWKSCache
	// fingerprintKey keys the fingerprints of secret keys (see
	// fingerprint.go).
	fingerprintKey []byte
	// sources loads the items JWKs are made from, by source type.
	sources map[SourceType]sourceLoader
	// fetcher reaches TLS servers for "Receive via HTTPS/LDAPS Connection".
	fetcher *certfetch.Fetcher
}

// NewService returns the secrets Service; cache is the public JWKS served
// at /jwks/, kept current after every publication.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, s *seal.Sealer, p *deploy.Publisher, cache *JWKSCache, f *certfetch.Fetcher) *Service {
	svc := &Service{db: d, audit: a, clock: c, sealer: s, writer: publish.NewWriter(d, a, c, p), jwkSets: cache,
		fingerprintKey: s.DeriveKey(FingerprintLabel, 32), fetcher: f}
	svc.sources = map[SourceType]sourceLoader{SourceKey: svc.loadKeySource, SourceCertificate: svc.loadCertificateSource}
	return svc
}

// DeploymentResult is what a deploying write answers.
type DeploymentResult = publish.Result

// EnvironmentResult is the outcome of deploying to one environment.
type EnvironmentResult = publish.EnvironmentResult

// The item types of this area.
const (
	typeKey = deploy.ObjectKey
	typeJWK = deploy.ObjectJWK
)

// managePerms is SECRETS:MANAGE, plus SECRETS:DEPLOY_UNDEPLOY when the
// write deploys.
func managePerms(deployNow bool) []access.Permission {
	if deployNow {
		return []access.Permission{access.SecretsManage, access.SecretsDeploy}
	}
	return []access.Permission{access.SecretsManage}
}

// deployPerms is what deploying, undeploying and deleting need.
var deployPerms = []access.Permission{access.SecretsManage, access.SecretsDeploy}

// viewer checks that p may read the project's secrets area.
func viewer(ctx context.Context, q *queries.Queries, p access.Principal, project string) (queries.Project, error) {
	pr, err := projects.Visible(ctx, q, p, project)
	if err != nil {
		return pr, err
	}
	return pr, access.Require(ctx, q, p, projects.Ref(pr), access.SecretsView)
}

// Permissions returns what p may do in the project's secrets area, for
// pages that offer only the actions p may take. A project p cannot see is
// NotFound.
func (s *Service) Permissions(ctx context.Context, p access.Principal, project string) (access.Set, error) {
	var perms access.Set
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		perms, err = access.Permissions(ctx, q, p, pr.ID)
		return err
	})
	return perms, err
}

// RequireManage returns the refusal a key or JWK write would give a
// principal without SECRETS:MANAGE, so that a form is refused before it is
// filled in, with the service's own message.
func (s *Service) RequireManage(ctx context.Context, p access.Principal, project string) error {
	return s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		return access.Require(ctx, q, p, projects.Ref(pr), access.SecretsManage)
	})
}

func notFound(thing, name, project string) error {
	return errs.Errorf(errs.NotFound, "%s %q does not exist in project %q.", thing, name, project)
}
