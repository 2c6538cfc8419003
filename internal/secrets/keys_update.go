package secrets

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/queries"
)

// UpdateKey replaces a key's description and configurations. A
// configuration without content keeps its material; environments left out
// lose their configuration (and are undeployed). Type and algorithm never
// change. When deployNow, every configuration is deployed. JWKs made from
// the key are rebuilt and redeployed where they were deployed
// (jwkAction UPDATE) or disconnected and left as they are (NULLIFY, the
// default).
func (s *Service) UpdateKey(ctx context.Context, p access.Principal, project, name string, in KeyInput, deployNow bool, jwkAction string) (*DeploymentResult, error) {
	perms := []access.Permission{access.SecretsManage}
	if deployNow {
		perms = append(perms, access.SecretsDeploy)
	}
	var result *DeploymentResult
	err := s.write(ctx, p, project, "key.update", keyObject(name), perms, func(q *queries.Queries, o *op) error {
		if jwkAction == "" {
			jwkAction = JWKNullify
		}
		if jwkAction != JWKUpdate && jwkAction != JWKNullify {
			return errs.FieldErrorf("jwkUpdateAction", "jwkUpdateAction %q must be UPDATE or NULLIFY.", jwkAction)
		}
		key, err := loadKey(ctx, q, o.project, name)
		if err != nil {
			return err
		}
		if in.Type != "" && in.Type != key.KeyType {
			return errs.FieldErrorf("keyType", "The key type of %q is %s and cannot change.", name, key.KeyType)
		}
		if in.Algorithm != "" && !strings.EqualFold(in.Algorithm, key.Algorithm) {
			return errs.FieldErrorf("algorithm", "The algorithm of %q is %s and cannot change.", name, key.Algorithm)
		}
		if err := validateUpdate(in); err != nil {
			return err
		}
		current, err := q.ListKeyConfigs(ctx, key.ID)
		if err != nil {
			return err
		}
		keep, byEnv, err := s.openConfigs(key, current)
		if err != nil {
			return err
		}
		t, alg := keymaterial.Type(key.KeyType), keymaterial.Algorithm(key.Algorithm)
		configs, _, err := prepareConfigs(ctx, q, t, alg, in, keep)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if err := q.UpdateKey(ctx, queries.UpdateKeyParams{Description: strings.TrimSpace(in.Description), Algorithm: key.Algorithm, UpdatedAt: now, ID: key.ID}); err != nil {
			return err
		}
		changed := map[string]keymaterial.Key{}
		listed := map[string]bool{}
		for _, pc := range configs {
			listed[pc.env.Name] = true
			var cur *queries.KeyConfig
			if row, ok := byEnv[pc.env.Name]; ok {
				kc := row.KeyConfig
				cur = &kc
			}
			kc, err := s.storeConfig(ctx, q, key, pc, cur)
			if err != nil {
				return err
			}
			if pc.raw != nil {
				changed[pc.env.Name] = pc.material
			}
			if deployNow {
				if err := s.deployKeyConfig(ctx, q, o, key, kc, pc.env); err != nil {
					return err
				}
			}
		}
		for envName, row := range byEnv {
			if listed[envName] {
				continue
			}
			if err := s.undeployKeyConfig(ctx, q, o, key, row.KeyConfig, row.Environment); err != nil {
				return err
			}
			if err := q.DeleteKeyConfig(ctx, row.KeyConfig.ID); err != nil {
				return err
			}
		}
		if err := s.followKeyUpdate(ctx, q, o, key, changed, jwkAction, deployNow); err != nil {
			return err
		}
		if err := s.record(ctx, q, o, "key.update", keyObject(name), "", "jwk action "+jwkAction); err != nil {
			return err
		}
		result = o.result("key", deploy.Deploy)
		return nil
	})
	return result, err
}

func validateUpdate(in KeyInput) error {
	if len(in.Description) > 1000 {
		return errs.FieldErrorf("description", "Description must be at most 1000 characters.")
	}
	return nil
}

// openConfigs opens the current material of each configuration, by
// environment name.
func (s *Service) openConfigs(key queries.Key, rows []queries.ListKeyConfigsRow) (map[string]keymaterial.Key, map[string]queries.ListKeyConfigsRow, error) {
	keep := map[string]keymaterial.Key{}
	byEnv := map[string]queries.ListKeyConfigsRow{}
	for _, r := range rows {
		k, err := s.openKeyConfig(key, r.KeyConfig, r.Environment.Name)
		if err != nil {
			return nil, nil, err
		}
		keep[r.Environment.Name] = k
		byEnv[r.Environment.Name] = r
	}
	return keep, byEnv, nil
}

// DeleteKey deletes a key, undeploying it from every environment. Its JWKs
// are deleted and undeployed too (jwkAction DELETE) or kept and
// disconnected (NULLIFY, the default).
func (s *Service) DeleteKey(ctx context.Context, p access.Principal, project, name, jwkAction string) (*DeploymentResult, error) {
	var result *DeploymentResult
	perms := []access.Permission{access.SecretsManage, access.SecretsDeploy}
	err := s.write(ctx, p, project, "key.delete", keyObject(name), perms, func(q *queries.Queries, o *op) error {
		if jwkAction == "" {
			jwkAction = JWKNullify
		}
		if jwkAction != JWKDelete && jwkAction != JWKNullify {
			return errs.FieldErrorf("jwkDeleteAction", "jwkDeleteAction %q must be DELETE or NULLIFY.", jwkAction)
		}
		key, err := loadKey(ctx, q, o.project, name)
		if err != nil {
			return err
		}
		rows, err := q.ListKeyConfigs(ctx, key.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := s.undeployKeyConfig(ctx, q, o, key, r.KeyConfig, r.Environment); err != nil {
				return err
			}
		}
		if err := s.followKeyDelete(ctx, q, o, key, jwkAction); err != nil {
			return err
		}
		if err := q.DeleteKey(ctx, key.ID); err != nil {
			return err
		}
		if err := s.record(ctx, q, o, "key.delete", keyObject(name), "", "jwk action "+jwkAction); err != nil {
			return err
		}
		result = o.result("key", deploy.Undeploy)
		return nil
	})
	return result, err
}

// openKeyConfig opens and parses a configuration's current material.
func (s *Service) openKeyConfig(key queries.Key, kc queries.KeyConfig, envName string) (keymaterial.Key, error) {
	raw, err := s.sealer.Open(materialAAD(key.ID, kc.EnvironmentID), kc.Material)
	if err != nil {
		return keymaterial.Key{}, fmt.Errorf("open material of key %q in %q: %w", key.Name, envName, err)
	}
	k, err := keymaterial.Parse("content", keymaterial.Type(key.KeyType), keymaterial.Algorithm(key.Algorithm), raw)
	if err != nil {
		return keymaterial.Key{}, fmt.Errorf("parse stored material of key %q in %q: %w", key.Name, envName, err)
	}
	return k, nil
}
