package secrets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// JWK source types. Certificates join when they exist.
const SourceKey = "KEY"

// JWKInput is a JWK as submitted: made from a key's configuration in each
// of Environments.
type JWKInput struct {
	Name         string
	SourceType   string
	SourceName   string
	Use          string
	Alg          string
	Kid          string // "" = the RFC 7638 thumbprint, per environment
	Environments []string
}

func jwkObject(name string) string { return "jwk/" + name }

// jwkAAD binds a secret JWK's sealed JSON to its row.
func jwkAAD(jwkID, envID int64) string { return fmt.Sprintf("jwk/%d/environment/%d", jwkID, envID) }

// CreateJWK creates a JWK from a key in each listed environment and, when
// deployNow, deploys it there.
func (s *Service) CreateJWK(ctx context.Context, p access.Principal, project string, in JWKInput, deployNow bool) (*DeploymentResult, error) {
	perms := []access.Permission{access.SecretsManage}
	if deployNow {
		perms = append(perms, access.SecretsDeploy)
	}
	var result *DeploymentResult
	err := s.write(ctx, p, project, "jwk.create", jwkObject(in.Name), perms, func(q *queries.Queries, o *op) error {
		if err := names.Validate("name", "JWK", in.Name); err != nil {
			return err
		}
		if in.SourceType != SourceKey {
			return errs.FieldErrorf("sourceType", "sourceType %q is not supported; use KEY.", in.SourceType)
		}
		if len(in.Environments) == 0 {
			return errs.FieldErrorf("environmentNames", "environmentNames must name at least one environment.")
		}
		if _, err := q.GetJWKByName(ctx, queries.GetJWKByNameParams{ProjectID: o.project.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A JWK named %q already exists in project %q.", in.Name, project)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		key, err := q.GetKeyByName(ctx, queries.GetKeyByNameParams{ProjectID: o.project.ID, Name: in.SourceName})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.FieldErrorf("sourceName", "Key %q does not exist in project %q.", in.SourceName, project)
		} else if err != nil {
			return err
		}
		configs, err := q.ListKeyConfigs(ctx, key.ID)
		if err != nil {
			return err
		}
		byEnv := map[string]queries.ListKeyConfigsRow{}
		for _, r := range configs {
			byEnv[r.Environment.Name] = r
		}
		now := s.clock.Now()
		jwk, err := q.CreateJWK(ctx, queries.CreateJWKParams{ProjectID: o.project.ID, Name: in.Name, SourceType: SourceKey,
			SourceKeyID: sql.NullInt64{Int64: key.ID, Valid: true}, SourceName: key.Name, Use: in.Use, Alg: in.Alg, Kid: in.Kid,
			Secret: key.KeyType == string(keymaterial.SecretKey), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for i, envName := range in.Environments {
			field := fmt.Sprintf("environmentNames[%d]", i)
			if seen[envName] {
				return errs.FieldErrorf(field, "%s: environment %q is listed twice.", field, envName)
			}
			seen[envName] = true
			r, ok := byEnv[envName]
			if !ok {
				return errs.FieldErrorf(field, "%s: key %q has no configuration in environment %q.", field, key.Name, envName)
			}
			material, err := s.openKeyConfig(key, r.KeyConfig, envName)
			if err != nil {
				return err
			}
			jc, err := s.storeJWKConfig(ctx, q, jwk, r.Environment, material)
			if err != nil {
				return err
			}
			if deployNow {
				if err := s.deployJWKConfig(ctx, q, o, jwk, jc, r.Environment); err != nil {
					return err
				}
			}
		}
		if err := s.record(ctx, q, o, "jwk.create", jwkObject(jwk.Name), "", "from key "+key.Name); err != nil {
			return err
		}
		result = o.result("jwk", deploy.Deploy)
		return nil
	})
	return result, err
}

// storeJWKConfig builds the JWK of material for env and stores it: the
// JSON as is for a public JWK, sealed for a secret one.
func (s *Service) storeJWKConfig(ctx context.Context, q *queries.Queries, jwk queries.Jwk, env queries.Environment, material keymaterial.Key) (queries.JwkConfig, error) {
	j, err := keymaterial.JWK(material, jwk.Kid, jwk.Use, jwk.Alg)
	if err != nil {
		return queries.JwkConfig{}, err
	}
	raw, err := json.Marshal(j)
	if err != nil {
		return queries.JwkConfig{}, fmt.Errorf("encode JWK %q: %w", jwk.Name, err)
	}
	params := queries.UpsertJWKConfigParams{JwkID: jwk.ID, EnvironmentID: env.ID, Kid: j.KeyID, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	if jwk.Secret {
		if params.SealedJson, err = s.sealer.Seal(jwkAAD(jwk.ID, env.ID), raw); err != nil {
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

// deployJWKConfig publishes a JWK configuration's current JSON to env.
func (s *Service) deployJWKConfig(ctx context.Context, q *queries.Queries, o *op, jwk queries.Jwk, jc queries.JwkConfig, env queries.Environment) error {
	params := queries.SetJWKConfigDeployedParams{DeployedJson: jc.PublicJson, ID: jc.ID}
	if jwk.Secret {
		raw, err := s.sealer.Open(jwkAAD(jwk.ID, env.ID), jc.SealedJson)
		if err != nil {
			return fmt.Errorf("open JWK %q in %q: %w", jwk.Name, env.Name, err)
		}
		if params.DeployedSealed, err = s.sealer.Seal(jwkAAD(jwk.ID, env.ID)+"/deployed", raw); err != nil {
			return err
		}
	}
	rev, err := s.publish(ctx, q, o, env, "jwk", jwk.Name, deploy.Deploy)
	if err != nil {
		return err
	}
	params.DeployedRevision = sql.NullInt64{Int64: rev, Valid: true}
	params.DeployedAt = sql.NullTime{Time: s.clock.Now(), Valid: true}
	if err := q.SetJWKConfigDeployed(ctx, params); err != nil {
		return err
	}
	return s.record(ctx, q, o, "jwk.deploy", jwkObject(jwk.Name), env.Name, fmt.Sprintf("revision %d, kid %s", rev, jc.Kid))
}

// undeployJWK withdraws every deployed configuration of a JWK.
func (s *Service) undeployJWK(ctx context.Context, q *queries.Queries, o *op, jwk queries.Jwk) error {
	rows, err := q.ListJWKConfigs(ctx, jwk.ID)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !r.JwkConfig.DeployedRevision.Valid {
			continue
		}
		rev, err := s.publish(ctx, q, o, r.Environment, "jwk", jwk.Name, deploy.Undeploy)
		if err != nil {
			return err
		}
		if err := q.SetJWKConfigDeployed(ctx, queries.SetJWKConfigDeployedParams{ID: r.JwkConfig.ID}); err != nil {
			return err
		}
		if err := s.record(ctx, q, o, "jwk.undeploy", jwkObject(jwk.Name), r.Environment.Name, fmt.Sprintf("revision %d", rev)); err != nil {
			return err
		}
	}
	return nil
}

// DeleteJWK undeploys and deletes a JWK.
func (s *Service) DeleteJWK(ctx context.Context, p access.Principal, project, name string) (*DeploymentResult, error) {
	var result *DeploymentResult
	perms := []access.Permission{access.SecretsManage, access.SecretsDeploy}
	err := s.write(ctx, p, project, "jwk.delete", jwkObject(name), perms, func(q *queries.Queries, o *op) error {
		jwk, err := q.GetJWKByName(ctx, queries.GetJWKByNameParams{ProjectID: o.project.ID, Name: name})
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("JWK", name, project)
		} else if err != nil {
			return err
		}
		if err := s.deleteJWK(ctx, q, o, jwk); err != nil {
			return err
		}
		result = o.result("jwk", deploy.Undeploy)
		return nil
	})
	return result, err
}

func (s *Service) deleteJWK(ctx context.Context, q *queries.Queries, o *op, jwk queries.Jwk) error {
	if err := s.undeployJWK(ctx, q, o, jwk); err != nil {
		return err
	}
	if err := q.DeleteJWK(ctx, jwk.ID); err != nil {
		return err
	}
	return s.record(ctx, q, o, "jwk.delete", jwkObject(jwk.Name), "", "")
}

// followKeyUpdate applies the JWK Connection choice after a key update:
// UPDATE rebuilds each related JWK from the changed material and, when the
// key is deployed too, redeploys it where it was deployed; NULLIFY
// disconnects the JWKs, which keep their material.
func (s *Service) followKeyUpdate(ctx context.Context, q *queries.Queries, o *op, key queries.Key, changed map[string]keymaterial.Key, action string, deployNow bool) error {
	related, err := q.ListJWKsBySourceKey(ctx, sql.NullInt64{Int64: key.ID, Valid: true})
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
			material, ok := changed[r.Environment.Name]
			if !ok {
				continue
			}
			jc, err := s.storeJWKConfig(ctx, q, jwk, r.Environment, material)
			if err != nil {
				return errs.FieldErrorf("jwkUpdateAction", "JWK %q cannot follow the new material in %q: %s", jwk.Name, r.Environment.Name, errs.MessageOf(err))
			}
			if deployNow && r.JwkConfig.DeployedRevision.Valid {
				if err := s.deployJWKConfig(ctx, q, o, jwk, jc, r.Environment); err != nil {
					return err
				}
			}
		}
		if err := s.record(ctx, q, o, "jwk.update", jwkObject(jwk.Name), "", "rebuilt from key "+key.Name); err != nil {
			return err
		}
	}
	return nil
}

// followKeyDelete deletes (DELETE) or disconnects (NULLIFY) a deleted
// key's JWKs.
func (s *Service) followKeyDelete(ctx context.Context, q *queries.Queries, o *op, key queries.Key, action string) error {
	related, err := q.ListJWKsBySourceKey(ctx, sql.NullInt64{Int64: key.ID, Valid: true})
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

func (s *Service) disconnect(ctx context.Context, q *queries.Queries, o *op, jwk queries.Jwk) error {
	if err := q.DisconnectJWK(ctx, queries.DisconnectJWKParams{UpdatedAt: s.clock.Now(), ID: jwk.ID}); err != nil {
		return err
	}
	return s.record(ctx, q, o, "jwk.disconnect", jwkObject(jwk.Name), "", "from key "+jwk.SourceName)
}
