package secrets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// Sources of a configuration's material.
const (
	SourceFile      = "FILE"
	SourceClipboard = "CLIPBOARD"
	SourceAPI       = "API"
)

// ConfigInput is one environment's configuration as submitted. Field is the
// prefix naming its inputs in errors: "cryptoKeyInfoEnvironmentList[1]" for
// the API, "configs[1]" for the web form.
type ConfigInput struct {
	Field       string
	Environment string
	Content     []byte // on update, nil keeps the environment's current material
	Alias       string
	Source      string
	FileName    string
}

// KeyInput is a key as submitted for create or update.
type KeyInput struct {
	Name        string
	Description string
	Type        string
	Algorithm   string
	Configs     []ConfigInput
	// ListField names the configuration list in errors.
	ListField string
}

// JWK actions chosen in the "JWK Connection" dialog, or with the API's
// jwkUpdateAction / jwkDeleteAction.
const (
	JWKUpdate  = "UPDATE"
	JWKDelete  = "DELETE"
	JWKNullify = "NULLIFY"
)

// preparedConfig is a validated configuration ready to store.
type preparedConfig struct {
	in       ConfigInput
	env      queries.Environment
	material keymaterial.Key
	raw      []byte // nil: keep the stored material
}

// keyObject names a key in the audit log.
func keyObject(name string) string { return "key/" + name }

// prepareConfigs validates configurations: known environments, each at most
// once, material matching type and algorithm (and one algorithm for all).
// keep holds the current configurations by environment name, for updates
// whose content is omitted.
func prepareConfigs(ctx context.Context, q *queries.Queries, t keymaterial.Type, alg keymaterial.Algorithm, in KeyInput, keep map[string]keymaterial.Key) ([]preparedConfig, keymaterial.Algorithm, error) {
	if len(in.Configs) == 0 {
		return nil, "", errs.FieldErrorf(in.ListField, "%s must name at least one environment.", in.ListField)
	}
	seen := map[string]string{}
	out := make([]preparedConfig, 0, len(in.Configs))
	for _, c := range in.Configs {
		envField := c.Field + ".environmentName"
		if c.Environment == "" {
			return nil, "", errs.FieldErrorf(envField, "%s is required.", envField)
		}
		if first, dup := seen[c.Environment]; dup {
			return nil, "", errs.FieldErrorf(envField, "%s: environment %q is configured twice (also in %s).", envField, c.Environment, first)
		}
		seen[c.Environment] = c.Field
		env, err := q.GetEnvironmentByName(ctx, c.Environment)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", errs.FieldErrorf(envField, "%s: environment %q does not exist.", envField, c.Environment)
		} else if err != nil {
			return nil, "", err
		}
		if len(c.Alias) > 200 {
			return nil, "", errs.FieldErrorf(c.Field+".alias", "%s.alias must be at most 200 characters.", c.Field)
		}
		pc := preparedConfig{in: c, env: env}
		if c.Content == nil && keep != nil {
			cur, ok := keep[c.Environment]
			if !ok {
				return nil, "", errs.FieldErrorf(c.Field+".content", "%s.content is required: the key has no material in environment %q yet.", c.Field, c.Environment)
			}
			pc.material = cur
		} else {
			k, err := keymaterial.Parse(c.Field+".content", t, alg, c.Content)
			if err != nil {
				return nil, "", err
			}
			pc.material, pc.raw = k, c.Content
		}
		if alg == "" {
			alg = pc.material.Algorithm
		} else if pc.material.Algorithm != alg {
			return nil, "", errs.FieldErrorf(c.Field+".content", "%s.content is %s key, but the key's algorithm is %s.", c.Field, keymaterial.WithArticle(pc.material.Algorithm), alg)
		}
		out = append(out, pc)
	}
	return out, alg, nil
}

// storeConfig seals and writes one configuration (material unchanged when
// pc.raw is nil).
func (s *Service) storeConfig(ctx context.Context, q *queries.Queries, key queries.Key, pc preparedConfig, current *queries.KeyConfig) (queries.KeyConfig, error) {
	now := s.clock.Now()
	if pc.raw == nil && current != nil {
		if err := q.UpdateKeyConfigAlias(ctx, queries.UpdateKeyConfigAliasParams{Alias: pc.in.Alias, UpdatedAt: now, ID: current.ID}); err != nil {
			return queries.KeyConfig{}, err
		}
		current.Alias = pc.in.Alias
		return *current, nil
	}
	sealed, err := s.sealer.Seal(materialAAD(key.ID, pc.env.ID), pc.raw)
	if err != nil {
		return queries.KeyConfig{}, err
	}
	m := pc.material
	return q.UpsertKeyConfig(ctx, queries.UpsertKeyConfigParams{
		KeyID: key.ID, EnvironmentID: pc.env.ID, Source: sourceOr(pc.in.Source), FileName: pc.in.FileName, Alias: pc.in.Alias,
		Material: sealed, Format: m.Format, Bits: int64(m.Bits), Curve: m.Curve, Fingerprint: m.Fingerprint,
		Warning: m.Warning, CreatedAt: now, UpdatedAt: now,
	})
}

func sourceOr(s string) string {
	if s == "" {
		return SourceAPI
	}
	return s
}

// materialAAD binds sealed key material to its key and environment.
func materialAAD(keyID, envID int64) string {
	return fmt.Sprintf("key/%d/environment/%d", keyID, envID)
}

// CreateKey creates a key with its configurations and, when deployNow,
// deploys every configuration (SECRETS:DEPLOY_UNDEPLOY needed as well).
func (s *Service) CreateKey(ctx context.Context, p access.Principal, project string, in KeyInput, deployNow bool) (*DeploymentResult, error) {
	perms := []access.Permission{access.SecretsManage}
	if deployNow {
		perms = append(perms, access.SecretsDeploy)
	}
	var result *DeploymentResult
	err := s.write(ctx, p, project, "key.create", keyObject(in.Name), perms, func(q *queries.Queries, o *op) error {
		t, alg, err := validateDefinition(in)
		if err != nil {
			return err
		}
		if _, err := q.GetKeyByName(ctx, queries.GetKeyByNameParams{ProjectID: o.project.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A key named %q already exists in project %q.", in.Name, project)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		configs, alg, err := prepareConfigs(ctx, q, t, alg, in, nil)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		key, err := q.CreateKey(ctx, queries.CreateKeyParams{ProjectID: o.project.ID, Name: in.Name, Description: strings.TrimSpace(in.Description),
			KeyType: string(t), Algorithm: string(alg), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		envs := make([]string, len(configs))
		for i, pc := range configs {
			envs[i] = pc.env.Name
			kc, err := s.storeConfig(ctx, q, key, pc, nil)
			if err != nil {
				return err
			}
			if deployNow {
				if err := s.deployKeyConfig(ctx, q, o, key, kc, pc.env); err != nil {
					return err
				}
			}
		}
		if err := s.record(ctx, q, o, "key.create", keyObject(key.Name), "", fmt.Sprintf("%s %s; environments: %s", t, alg, strings.Join(envs, ", "))); err != nil {
			return err
		}
		result = o.result("key", deploy.Deploy)
		return nil
	})
	return result, err
}

// validateDefinition checks name, type and algorithm.
func validateDefinition(in KeyInput) (keymaterial.Type, keymaterial.Algorithm, error) {
	if err := names.Validate("name", "Key", in.Name); err != nil {
		return "", "", err
	}
	if err := names.ValidateDescription("description", in.Description); err != nil {
		return "", "", err
	}
	t, err := keymaterial.ParseType("keyType", in.Type)
	if err != nil {
		return "", "", err
	}
	alg, err := keymaterial.ParseAlgorithm("algorithm", t, in.Algorithm)
	return t, alg, err
}

// deployKeyConfig publishes a configuration's current material to env.
func (s *Service) deployKeyConfig(ctx context.Context, q *queries.Queries, o *op, key queries.Key, kc queries.KeyConfig, env queries.Environment) error {
	raw, err := s.sealer.Open(materialAAD(key.ID, env.ID), kc.Material)
	if err != nil {
		return fmt.Errorf("open material of key %q in %q: %w", key.Name, env.Name, err)
	}
	deployed, err := s.sealer.Seal(materialAAD(key.ID, env.ID)+"/deployed", raw)
	if err != nil {
		return err
	}
	rev, err := s.publish(ctx, q, o, env, "key", key.Name, deploy.Deploy)
	if err != nil {
		return err
	}
	if err := q.SetKeyConfigDeployed(ctx, queries.SetKeyConfigDeployedParams{
		DeployedRevision: sql.NullInt64{Int64: rev, Valid: true}, DeployedAt: sql.NullTime{Time: s.clock.Now(), Valid: true},
		DeployedMaterial: deployed, DeployedFingerprint: kc.Fingerprint, ID: kc.ID,
	}); err != nil {
		return err
	}
	return s.record(ctx, q, o, "key.deploy", keyObject(key.Name), env.Name, fmt.Sprintf("revision %d", rev))
}

// undeployKeyConfig withdraws a deployed configuration from env.
func (s *Service) undeployKeyConfig(ctx context.Context, q *queries.Queries, o *op, key queries.Key, kc queries.KeyConfig, env queries.Environment) error {
	if !kc.DeployedRevision.Valid {
		return nil
	}
	rev, err := s.publish(ctx, q, o, env, "key", key.Name, deploy.Undeploy)
	if err != nil {
		return err
	}
	if err := q.SetKeyConfigDeployed(ctx, queries.SetKeyConfigDeployedParams{ID: kc.ID}); err != nil {
		return err
	}
	return s.record(ctx, q, o, "key.undeploy", keyObject(key.Name), env.Name, fmt.Sprintf("revision %d", rev))
}

// loadKey returns a key of the operation's project or NotFound.
func loadKey(ctx context.Context, q *queries.Queries, project queries.Project, name string) (queries.Key, error) {
	k, err := q.GetKeyByName(ctx, queries.GetKeyByNameParams{ProjectID: project.ID, Name: name})
	if errors.Is(err, sql.ErrNoRows) {
		return k, notFound("Key", name, project.Name)
	}
	if err != nil {
		return k, fmt.Errorf("load key %q: %w", name, err)
	}
	return k, nil
}

// DeployKey deploys (or, when undeploy, withdraws) a key's configuration in
// one environment.
func (s *Service) DeployKey(ctx context.Context, p access.Principal, project, name, envName string, undeploy bool) (*DeploymentResult, error) {
	action, verb := "key.deploy", deploy.Deploy
	if undeploy {
		action, verb = "key.undeploy", deploy.Undeploy
	}
	var result *DeploymentResult
	err := s.writeIn(ctx, p, project, envName, action, keyObject(name), []access.Permission{access.SecretsManage, access.SecretsDeploy}, func(q *queries.Queries, o *op) error {
		key, err := loadKey(ctx, q, o.project, name)
		if err != nil {
			return err
		}
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		kc, err := q.GetKeyConfig(ctx, queries.GetKeyConfigParams{KeyID: key.ID, EnvironmentID: env.ID})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Errorf(errs.NotFound, "Key %q has no configuration for environment %q.", name, envName)
		} else if err != nil {
			return err
		}
		if undeploy {
			if !kc.DeployedRevision.Valid {
				return errs.Errorf(errs.Conflict, "Key %q is not deployed to environment %q.", name, envName)
			}
			err = s.undeployKeyConfig(ctx, q, o, key, kc, env)
		} else {
			err = s.deployKeyConfig(ctx, q, o, key, kc, env)
		}
		if err != nil {
			return err
		}
		result = o.result("key", verb)
		return nil
	})
	return result, err
}
