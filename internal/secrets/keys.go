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
	"github.com/keyward/keyward/internal/publish"
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

// Ref gives the publication pipeline the entry's field, environment and
// alias.
func (c ConfigInput) Ref() (string, string, string) { return c.Field, c.Environment, c.Alias }

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

// keyConfig is a configuration that passed the pipeline.
type keyConfig = publish.Prepared[ConfigInput, parsedKey]

// parsedKey is a configuration's material: raw is nil when the input kept
// the stored material.
type parsedKey struct {
	material keymaterial.Key
	raw      []byte
}

// keyParser is the key type's parse function for the pipeline: material
// must match the type and the algorithm, the same algorithm in every
// environment (detected from the first when the definition names none).
// keep holds the current material by environment, for updates whose content
// is omitted.
type keyParser struct {
	s    *Service
	t    keymaterial.Type
	alg  keymaterial.Algorithm
	keep map[string]keymaterial.Key
}

func (kp *keyParser) parse(field string, c ConfigInput, env queries.Environment) (parsedKey, error) {
	var pk parsedKey
	if c.Content == nil && kp.keep != nil {
		cur, ok := kp.keep[env.Name]
		if !ok {
			return pk, errs.FieldErrorf(field+".content", "The content is required: the key has no material in environment %q yet.", env.Name)
		}
		pk.material = cur
	} else {
		k, err := kp.s.parseMaterial(field+".content", kp.t, kp.alg, c.Content)
		if err != nil {
			return pk, err
		}
		pk.material, pk.raw = k, c.Content
	}
	if kp.alg == "" {
		kp.alg = pk.material.Algorithm
	} else if pk.material.Algorithm != kp.alg {
		return pk, errs.FieldErrorf(field+".content", "This is %s key, but the key's algorithm is %s.", keymaterial.WithArticle(pk.material.Algorithm), kp.alg)
	}
	return pk, nil
}

// parseMaterial parses material and gives a secret key its keyed
// fingerprint.
func (s *Service) parseMaterial(field string, t keymaterial.Type, alg keymaterial.Algorithm, raw []byte) (keymaterial.Key, error) {
	k, err := keymaterial.Parse(field, t, alg, raw)
	if err != nil {
		return k, err
	}
	if k.Type == keymaterial.SecretKey {
		k.Fingerprint = s.secretFingerprint(k.Secret)
	}
	return k, nil
}

// prepareKeyConfigs runs the configurations through the pipeline.
func (s *Service) prepareKeyConfigs(ctx context.Context, q *queries.Queries, t keymaterial.Type, alg keymaterial.Algorithm, in KeyInput, keep map[string]keymaterial.Key) ([]keyConfig, keymaterial.Algorithm, error) {
	kp := &keyParser{s: s, t: t, alg: alg, keep: keep}
	out, err := publish.Prepare(ctx, q, in.ListField, in.Configs, kp.parse)
	return out, kp.alg, err
}

// storeConfig seals and writes one configuration (only the alias changes
// when the material was kept).
func (s *Service) storeConfig(ctx context.Context, q *queries.Queries, key queries.Key, pc keyConfig, current *queries.KeyConfig) (queries.KeyConfig, error) {
	now := s.clock.Now()
	if pc.Parsed.raw == nil && current != nil {
		if err := q.UpdateKeyConfigAlias(ctx, queries.UpdateKeyConfigAliasParams{Alias: pc.In.Alias, UpdatedAt: now, ID: current.ID}); err != nil {
			return queries.KeyConfig{}, err
		}
		current.Alias = pc.In.Alias
		return *current, nil
	}
	sealed, err := s.sealer.Seal(publish.SealBinding(typeKey, key.ID, pc.Env.ID), pc.Parsed.raw)
	if err != nil {
		return queries.KeyConfig{}, err
	}
	m := pc.Parsed.material
	return q.UpsertKeyConfig(ctx, queries.UpsertKeyConfigParams{
		KeyID: key.ID, EnvironmentID: pc.Env.ID, Source: sourceOr(pc.In.Source), FileName: pc.In.FileName, Alias: pc.In.Alias,
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

// CreateKey creates a key with its configurations and, when deployNow,
// deploys every configuration (SECRETS:DEPLOY_UNDEPLOY needed as well).
func (s *Service) CreateKey(ctx context.Context, p access.Principal, project string, in KeyInput, deployNow bool) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeKey.Action("create"), Object: typeKey.Object(in.Name), Perms: managePerms(deployNow)}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		t, alg, err := validateDefinition(in)
		if err != nil {
			return err
		}
		if _, err := q.GetKeyByName(ctx, queries.GetKeyByNameParams{ProjectID: o.Project.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A key named %q already exists in project %q.", in.Name, project)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		configs, alg, err := s.prepareKeyConfigs(ctx, q, t, alg, in, nil)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		key, err := q.CreateKey(ctx, queries.CreateKeyParams{ProjectID: o.Project.ID, Name: in.Name, Description: strings.TrimSpace(in.Description),
			KeyType: string(t), Algorithm: string(alg), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		envs := make([]string, len(configs))
		for i, pc := range configs {
			envs[i] = pc.Env.Name
			kc, err := s.storeConfig(ctx, q, key, pc, nil)
			if err != nil {
				return err
			}
			if deployNow {
				if err := o.Deploy(ctx, q, s.keyTarget(ctx, q, key, kc, pc.Env)); err != nil {
					return err
				}
			}
		}
		if err := o.Record(ctx, q, typeKey.Action("create"), typeKey.Object(key.Name), "", fmt.Sprintf("%s %s; environments: %s", t, alg, strings.Join(envs, ", "))); err != nil {
			return err
		}
		result = o.Result(typeKey, deploy.Deploy)
		return nil
	})
	return result, err
}

// validateDefinition checks name, type and algorithm.
func validateDefinition(in KeyInput) (keymaterial.Type, keymaterial.Algorithm, error) {
	if err := names.ValidateItem("name", "Key", in.Name); err != nil {
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

// keyTarget is a key configuration as the deploy helper takes it: deploying
// copies the current material into the sealed copy gateways receive;
// undeploying clears it.
func (s *Service) keyTarget(ctx context.Context, q *queries.Queries, key queries.Key, kc queries.KeyConfig, env queries.Environment) publish.Target {
	binding := publish.SealBinding(typeKey, key.ID, env.ID)
	return publish.Target{Type: typeKey, Name: key.Name, Env: env, Mark: func(rev int64) error {
		if rev == 0 {
			return q.SetKeyConfigDeployed(ctx, queries.SetKeyConfigDeployedParams{ID: kc.ID})
		}
		raw, err := s.sealer.Open(binding, kc.Material)
		if err != nil {
			return fmt.Errorf("open material: %w", err)
		}
		deployed, err := s.sealer.Seal(binding+"/deployed", raw)
		if err != nil {
			return err
		}
		return q.SetKeyConfigDeployed(ctx, queries.SetKeyConfigDeployedParams{
			DeployedRevision: sql.NullInt64{Int64: rev, Valid: true}, DeployedAt: sql.NullTime{Time: s.clock.Now(), Valid: true},
			DeployedMaterial: deployed, DeployedFingerprint: kc.Fingerprint, ID: kc.ID,
		})
	}}
}

// undeployKeyConfig withdraws a configuration from env when it is deployed.
func (s *Service) undeployKeyConfig(ctx context.Context, q *queries.Queries, o *publish.Op, key queries.Key, kc queries.KeyConfig, env queries.Environment) error {
	if !kc.DeployedRevision.Valid {
		return nil
	}
	return o.Undeploy(ctx, q, s.keyTarget(ctx, q, key, kc, env))
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
	verb := deploy.Deploy
	if undeploy {
		verb = deploy.Undeploy
	}
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Environment: envName, Action: typeKey.Action(verb), Object: typeKey.Object(name), Perms: deployPerms}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		key, err := loadKey(ctx, q, o.Project, name)
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
		t := s.keyTarget(ctx, q, key, kc, env)
		if undeploy {
			if !kc.DeployedRevision.Valid {
				return errs.Errorf(errs.Conflict, "Key %q is not deployed to environment %q.", name, envName)
			}
			err = o.Undeploy(ctx, q, t)
		} else {
			err = o.Deploy(ctx, q, t)
		}
		if err != nil {
			return err
		}
		result = o.Result(typeKey, verb)
		return nil
	})
	return result, err
}
