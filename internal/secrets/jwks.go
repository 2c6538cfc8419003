package secrets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// JWKInput is a JWK as submitted: made from a source's configuration in
// each of Environments.
type JWKInput struct {
	Name         string
	SourceType   SourceType
	SourceName   string
	Use          string
	Alg          string
	Kid          string // "" = the RFC 7638 thumbprint, per environment
	Environments []string
}

// CreateJWK creates a JWK from a source in each listed environment and,
// when deployNow, deploys it there.
func (s *Service) CreateJWK(ctx context.Context, p access.Principal, project string, in JWKInput, deployNow bool) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeJWK.Action("create"), Object: typeJWK.Object(in.Name), Perms: managePerms(deployNow)}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		if err := names.ValidateItem("name", "JWK", in.Name); err != nil {
			return err
		}
		if err := names.ValidateLabel("kid", "The kid", in.Kid, 200); err != nil {
			return err
		}
		load, err := s.sourceLoader(in.SourceType)
		if err != nil {
			return err
		}
		if len(in.Environments) == 0 {
			return errs.FieldErrorf("environmentNames", "Name at least one environment.")
		}
		if _, err := q.GetJWKByName(ctx, queries.GetJWKByNameParams{ProjectID: o.Project.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A JWK named %q already exists in project %q.", in.Name, project)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		src, err := load(ctx, q, o.Project, in.SourceName)
		if err != nil {
			return err
		}
		envs, err := publish.Environments(ctx, q, "environmentNames", in.Environments)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		jwk, err := q.CreateJWK(ctx, queries.CreateJWKParams{ProjectID: o.Project.ID, Name: in.Name, SourceType: string(src.SourceType()),
			SourceID: sql.NullInt64{Int64: src.SourceID(), Valid: true}, SourceName: src.SourceName(), Use: in.Use, Alg: in.Alg, Kid: in.Kid,
			Secret: src.Secret(), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		for i, env := range envs {
			field := fmt.Sprintf("environmentNames[%d]", i)
			m, ok, err := src.Material(ctx, s, q, env)
			if err != nil {
				return err
			}
			if !ok {
				return errs.FieldErrorf(field, "%s %q has no configuration in environment %q.", sourceThing(src), src.SourceName(), env.Name)
			}
			jc, err := s.storeJWKConfig(ctx, q, jwk, env, m)
			if err != nil {
				return err
			}
			if deployNow {
				if err := o.Deploy(ctx, q, s.jwkTarget(ctx, q, jwk, jc, env)); err != nil {
					return err
				}
			}
		}
		if err := o.Record(ctx, q, typeJWK.Action("create"), typeJWK.Object(jwk.Name), "", "from "+sourceWord(src)+" "+src.SourceName()); err != nil {
			return err
		}
		result = o.Result(typeJWK, deploy.Deploy)
		return nil
	})
	return result, err
}

// sourceThing is "Key" or "Certificate", for messages.
func sourceThing(src JWKSource) string {
	w := sourceWord(src)
	return strings.ToUpper(w[:1]) + w[1:]
}

// sourceWord is "key" or "certificate".
func sourceWord(src JWKSource) string { return strings.ToLower(string(src.SourceType())) }

// storeJWKConfig builds the JWK of m for env and stores it: the JSON as is
// for a public JWK, sealed for a secret one.
func (s *Service) storeJWKConfig(ctx context.Context, q *queries.Queries, jwk queries.Jwk, env queries.Environment, m SourceMaterial) (queries.JwkConfig, error) {
	j, err := keymaterial.JWK(m.Key, jwk.Kid, jwk.Use, jwk.Alg)
	if err != nil {
		return queries.JwkConfig{}, err
	}
	raw, err := json.Marshal(j)
	if err != nil {
		return queries.JwkConfig{}, fmt.Errorf("encode JWK %q: %w", jwk.Name, err)
	}
	params := queries.UpsertJWKConfigParams{JwkID: jwk.ID, EnvironmentID: env.ID, Kid: j.KeyID, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	if jwk.Secret {
		if params.SealedJson, err = s.sealer.Seal(publish.SealBinding(typeJWK, jwk.ID, env.ID), raw); err != nil {
			return queries.JwkConfig{}, err
		}
	} else {
		if !keymaterial.PublicMembers(raw) {
			return queries.JwkConfig{}, fmt.Errorf("JWK %q would publish private members", jwk.Name)
		}
		params.PublicJson = string(raw)
	}
	return q.UpsertJWKConfig(ctx, params)
}

// jwkTarget is a JWK configuration as the deploy helper takes it: deploying
// copies the current JSON (sealed again for a secret JWK) into the deployed
// columns; undeploying clears them.
func (s *Service) jwkTarget(ctx context.Context, q *queries.Queries, jwk queries.Jwk, jc queries.JwkConfig, env queries.Environment) publish.Target {
	binding := publish.SealBinding(typeJWK, jwk.ID, env.ID)
	return publish.Target{Type: typeJWK, Name: jwk.Name, Env: env, Detail: "kid " + jc.Kid, Mark: func(rev int64) error {
		if rev == 0 {
			return q.SetJWKConfigDeployed(ctx, queries.SetJWKConfigDeployedParams{ID: jc.ID})
		}
		params := queries.SetJWKConfigDeployedParams{DeployedJson: jc.PublicJson, ID: jc.ID,
			DeployedRevision: sql.NullInt64{Int64: rev, Valid: true}, DeployedAt: sql.NullTime{Time: s.clock.Now(), Valid: true}}
		if jwk.Secret {
			raw, err := s.sealer.Open(binding, jc.SealedJson)
			if err != nil {
				return fmt.Errorf("open JWK: %w", err)
			}
			if params.DeployedSealed, err = s.sealer.Seal(binding+"/deployed", raw); err != nil {
				return err
			}
		}
		return q.SetJWKConfigDeployed(ctx, params)
	}}
}

// undeployJWK withdraws every deployed configuration of a JWK.
func (s *Service) undeployJWK(ctx context.Context, q *queries.Queries, o *publish.Op, jwk queries.Jwk) error {
	rows, err := q.ListJWKConfigs(ctx, jwk.ID)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !r.JwkConfig.DeployedRevision.Valid {
			continue
		}
		t := s.jwkTarget(ctx, q, jwk, r.JwkConfig, r.Environment)
		t.Detail = ""
		if err := o.Undeploy(ctx, q, t); err != nil {
			return err
		}
	}
	return nil
}

// DeleteJWK undeploys and deletes a JWK.
func (s *Service) DeleteJWK(ctx context.Context, p access.Principal, project, name string) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeJWK.Action("delete"), Object: typeJWK.Object(name), Perms: deployPerms}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		jwk, err := q.GetJWKByName(ctx, queries.GetJWKByNameParams{ProjectID: o.Project.ID, Name: name})
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("JWK", name, project)
		} else if err != nil {
			return err
		}
		if err := s.deleteJWK(ctx, q, o, jwk); err != nil {
			return err
		}
		result = o.Result(typeJWK, deploy.Undeploy)
		return nil
	})
	return result, err
}

func (s *Service) deleteJWK(ctx context.Context, q *queries.Queries, o *publish.Op, jwk queries.Jwk) error {
	if err := s.undeployJWK(ctx, q, o, jwk); err != nil {
		return err
	}
	if err := q.DeleteJWK(ctx, jwk.ID); err != nil {
		return err
	}
	return o.Record(ctx, q, typeJWK.Action("delete"), typeJWK.Object(jwk.Name), "", "")
}

// followSourceUpdate applies the JWK Connection choice after a source's
// update: UPDATE rebuilds each related JWK from the changed material and,
// when the source is deployed too, redeploys it where it was deployed;
// NULLIFY disconnects the JWKs, which keep their material.
func (s *Service) followSourceUpdate(ctx context.Context, q *queries.Queries, o *publish.Op, src JWKSource, changed map[string]SourceMaterial, action string, deployNow bool) error {
	related, err := relatedJWKs(ctx, q, src)
	if err != nil {
		return err
	}
	for _, jwk := range related {
		if action == JWKNullify {
			if err := s.disconnect(ctx, q, o, jwk); err != nil {
				return err
			}
			continue
		}
		rows, err := q.ListJWKConfigs(ctx, jwk.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			m, ok := changed[r.Environment.Name]
			if !ok {
				continue
			}
			jc, err := s.storeJWKConfig(ctx, q, jwk, r.Environment, m)
			if err != nil {
				return errs.FieldErrorf("jwkUpdateAction", "JWK %q cannot follow the new material in %q: %s", jwk.Name, r.Environment.Name, errs.MessageOf(err))
			}
			if deployNow && r.JwkConfig.DeployedRevision.Valid {
				if err := o.Deploy(ctx, q, s.jwkTarget(ctx, q, jwk, jc, r.Environment)); err != nil {
					return err
				}
			}
		}
		if err := o.Record(ctx, q, typeJWK.Action("update"), typeJWK.Object(jwk.Name), "", "rebuilt from "+sourceWord(src)+" "+src.SourceName()); err != nil {
			return err
		}
	}
	return nil
}

// followSourceDelete deletes (DELETE) or disconnects (NULLIFY) a deleted
// source's JWKs.
func (s *Service) followSourceDelete(ctx context.Context, q *queries.Queries, o *publish.Op, src JWKSource, action string) error {
	related, err := relatedJWKs(ctx, q, src)
	if err != nil {
		return err
	}
	for _, jwk := range related {
		if action == JWKDelete {
			err = s.deleteJWK(ctx, q, o, jwk)
		} else {
			err = s.disconnect(ctx, q, o, jwk)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) disconnect(ctx context.Context, q *queries.Queries, o *publish.Op, jwk queries.Jwk) error {
	if err := q.DisconnectJWK(ctx, queries.DisconnectJWKParams{UpdatedAt: s.clock.Now(), ID: jwk.ID}); err != nil {
		return err
	}
	return o.Record(ctx, q, typeJWK.Action("disconnect"), typeJWK.Object(jwk.Name), "", "from "+strings.ToLower(jwk.SourceType)+" "+jwk.SourceName)
}
