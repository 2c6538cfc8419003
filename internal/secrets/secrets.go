// Package secrets is the "Secrets Management" area: keys (seed 000, API
// seed 002), the JWKs made from them, what each environment publishes (the
// public JWKS and the gateway bundle). Keys and JWKs share one service
// because a key update or deletion must update, disconnect or delete its
// JWKs in the same transaction.
//
// Every write is one transaction that checks permissions first, validates,
// seals material, records deployments and audits; after the commit the
// publisher tells webhooks and the JWKS cache. A refused write changes
// nothing but the audit log, which records the refusal.
package secrets

import (
	"context"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/seal"
	"github.com/keyward/keyward/queries"
)

// Service manages keys and JWKs.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	clock     clock.Clock
	sealer    *seal.Sealer
	publisher *deploy.Publisher
	jwkSets   *JWKSCache
}

// NewService returns the secrets Service; cache is the public JWKS served
// at /jwks/, kept current after every publication.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, s *seal.Sealer, p *deploy.Publisher, cache *JWKSCache) *Service {
	return &Service{db: d, audit: a, clock: c, sealer: s, publisher: p, jwkSets: cache}
}

// EnvironmentResult is the outcome of deploying to one environment.
type EnvironmentResult struct {
	EnvironmentName string `json:"environmentName"`
	Success         bool   `json:"success"`
	Message         string `json:"message"`
}

// DeploymentResult is what a deploying write answers.
type DeploymentResult struct {
	Success            bool                `json:"success"`
	Message            string              `json:"message"`
	EnvironmentResults []EnvironmentResult `json:"environmentResults"`
}

// op is one write under way: who, in which project, what it published.
type op struct {
	p         access.Principal
	project   queries.Project
	published []deploy.Published
}

// write runs fn as one transaction for principal p in project, after
// checking perms. A refusal or validation error is audited as action on
// object; publications are announced after the commit.
func (s *Service) write(ctx context.Context, p access.Principal, project, action, object string, perms []access.Permission, fn func(q *queries.Queries, o *op) error) error {
	return s.writeIn(ctx, p, project, "", action, object, perms, fn)
}

// writeIn is write for an operation on one environment, which a refusal's
// audit entry names.
func (s *Service) writeIn(ctx context.Context, p access.Principal, project, env, action, object string, perms []access.Permission, fn func(q *queries.Queries, o *op) error) error {
	o := &op{p: p}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		pr, err := projects.Load(ctx, q, project)
		if err != nil {
			return err
		}
		o.project = pr
		if err := access.Require(ctx, q, p, projects.Ref(pr), perms...); err != nil {
			return err
		}
		return fn(q, o)
	})
	if err != nil {
		e := audit.For(p, action)
		e.Project, e.Object, e.Environment = project, object, env
		return s.audit.Refuse(ctx, e, err)
	}
	s.publisher.Committed(ctx, o.published)
	return nil
}

// record appends an audit entry for the operation's project.
func (s *Service) record(ctx context.Context, q *queries.Queries, o *op, action, object, env, detail string) error {
	e := audit.For(o.p, action)
	e.Project, e.Object, e.Environment, e.Detail = o.project.Name, object, env, detail
	return s.audit.Append(ctx, q, e)
}

// publish records a deploy or undeploy in env and returns the new revision.
func (s *Service) publish(ctx context.Context, q *queries.Queries, o *op, env queries.Environment, objType, name, action string) (int64, error) {
	pub, err := s.publisher.Record(ctx, q, o.p.Username, deploy.Change{
		Environment: env, Project: o.project.Name, ObjectType: objType, ObjectName: name, Action: action,
	})
	if err != nil {
		return 0, err
	}
	o.published = append(o.published, pub)
	return pub.Revision, nil
}

// result summarises what an operation published for objType.
func (o *op) result(objType, verb string) *DeploymentResult {
	r := &DeploymentResult{Success: true, EnvironmentResults: []EnvironmentResult{}}
	for _, p := range o.published {
		if p.Change.ObjectType != objType || p.Change.Action != verb {
			continue
		}
		r.EnvironmentResults = append(r.EnvironmentResults, EnvironmentResult{
			EnvironmentName: p.Change.Environment.Name, Success: true,
			Message: fmt.Sprintf("%sed at revision %d", verb, p.Revision),
		})
	}
	if verb == deploy.Undeploy {
		r.Message = fmt.Sprintf("Undeployed from %d environment(s).", len(r.EnvironmentResults))
	} else {
		r.Message = fmt.Sprintf("Deployed to %d environment(s).", len(r.EnvironmentResults))
	}
	return r
}

// viewer checks that p may read the project's secrets area.
func (s *Service) viewer(ctx context.Context, q *queries.Queries, p access.Principal, project string) (queries.Project, error) {
	pr, err := projects.Load(ctx, q, project)
	if err != nil {
		return pr, err
	}
	return pr, access.Require(ctx, q, p, projects.Ref(pr), access.SecretsView)
}

func notFound(thing, name, project string) error {
	return errs.Errorf(errs.NotFound, "%s %q does not exist in project %q.", thing, name, project)
}
