package secrets

import (
	"context"
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

// UpdateKey replaces a key's description and configurations. A
// configuration without content keeps its material; environments left out
// lose their configuration (and are undeployed). Type and algorithm never
// change. When deployNow, every configuration is deployed. JWKs made from
// the key are rebuilt and redeployed where they were deployed
// (jwkAction UPDATE) or disconnected and left as they are (NULLIFY, the
// default). A plain save (no deploy) keeps them connected and rebuilds
// them, deploying nothing: no dialog asked the user, so whatever jwkAction
// says is ignored.
func (s *Service) UpdateKey(ctx context.Context, p access.Principal, project, name string, in KeyInput, deployNow bool, jwkAction string) (*DeploymentResult, error) {
	var result *DeploymentResult
	wr := publish.Write{Principal: p, Project: project, Action: typeKey.Action("update"), Object: typeKey.Object(name), Perms: managePerms(deployNow)}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		action, err := updateAction(jwkAction, deployNow)
		if err != nil {
			return err
		}
		key, err := loadKey(ctx, q, o.Project, name)
		if err != nil {
			return err
		}
		if in.Type != "" && in.Type != key.KeyType {
			return errs.FieldErrorf("keyType", "The key type of %q is %s and cannot change.", name, key.KeyType)
		}
		if in.Algorithm != "" && !strings.EqualFold(in.Algorithm, key.Algorithm) {
			return errs.FieldErrorf("algorithm", "The algorithm of %q is %s and cannot change.", name, key.Algorithm)
		}
		if err := names.ValidateDescription("description", in.Description); err != nil {
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
		configs, _, err := s.prepareKeyConfigs(ctx, q, t, alg, in, keep)
		if err != nil {
			return err
		}
		if err := q.UpdateKey(ctx, queries.UpdateKeyParams{Description: strings.TrimSpace(in.Description), Algorithm: key.Algorithm, UpdatedAt: s.clock.Now(), ID: key.ID}); err != nil {
			return err
		}
		changed := map[string]SourceMaterial{}
		listed := map[string]bool{}
		for _, pc := range configs {
			listed[pc.Env.Name] = true
			var cur *queries.KeyConfig
			if row, ok := byEnv[pc.Env.Name]; ok {
				kc := row.KeyConfig
				cur = &kc
			}
			kc, err := s.storeConfig(ctx, q, key, pc, cur)
			if err != nil {
				return err
			}
			if pc.Parsed.raw != nil {
				changed[pc.Env.Name] = SourceMaterial{Key: pc.Parsed.material}
			}
			if deployNow {
				if err := o.Deploy(ctx, q, s.keyTarget(ctx, q, key, kc, pc.Env)); err != nil {
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
		if err := s.followSourceUpdate(ctx, q, o, keySource{key: key}, changed, action, deployNow); err != nil {
			return err
		}
		if err := o.Record(ctx, q, typeKey.Action("update"), typeKey.Object(name), "", "jwk action "+action); err != nil {
			return err
		}
		result = o.Result(typeKey, deploy.Deploy)
		return nil
	})
	return result, err
}

// updateAction is the JWK Connection choice an update applies: NULLIFY
// when a deploying update names none, UPDATE on a plain save.
func updateAction(action string, deployNow bool) (string, error) {
	switch {
	case !deployNow:
		return JWKUpdate, nil
	case action == "":
		return JWKNullify, nil
	case action == JWKUpdate || action == JWKNullify:
		return action, nil
	}
	return "", errs.FieldErrorf("jwkUpdateAction", "jwkUpdateAction %q must be UPDATE or NULLIFY.", action)
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
	wr := publish.Write{Principal: p, Project: project, Action: typeKey.Action("delete"), Object: typeKey.Object(name), Perms: deployPerms}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		action, err := deleteAction(jwkAction)
		if err != nil {
			return err
		}
		key, err := loadKey(ctx, q, o.Project, name)
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
		if err := s.followSourceDelete(ctx, q, o, keySource{key: key}, action); err != nil {
			return err
		}
		if err := q.DeleteKey(ctx, key.ID); err != nil {
			return err
		}
		if err := o.Record(ctx, q, typeKey.Action("delete"), typeKey.Object(name), "", "jwk action "+action); err != nil {
			return err
		}
		result = o.Result(typeKey, deploy.Undeploy)
		return nil
	})
	return result, err
}

// deleteAction is the JWK Connection choice a deletion applies (NULLIFY
// when none is named).
func deleteAction(action string) (string, error) {
	switch action {
	case "":
		return JWKNullify, nil
	case JWKDelete, JWKNullify:
		return action, nil
	}
	return "", errs.FieldErrorf("jwkDeleteAction", "jwkDeleteAction %q must be DELETE or NULLIFY.", action)
}

// openKeyConfig opens and parses a configuration's current material.
func (s *Service) openKeyConfig(key queries.Key, kc queries.KeyConfig, envName string) (keymaterial.Key, error) {
	raw, err := s.sealer.Open(publish.SealBinding(typeKey, key.ID, kc.EnvironmentID), kc.Material)
	if err != nil {
		return keymaterial.Key{}, fmt.Errorf("open material of key %q in %q: %w", key.Name, envName, err)
	}
	k, err := s.parseMaterial("content", keymaterial.Type(key.KeyType), keymaterial.Algorithm(key.Algorithm), raw)
	if err != nil {
		return keymaterial.Key{}, fmt.Errorf("parse stored material of key %q in %q: %w", key.Name, envName, err)
	}
	return k, nil
}
