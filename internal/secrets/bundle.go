package secrets

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
)

// BundleKey is a deployed key as a gateway receives it.
type BundleKey struct {
	Project          string `json:"project"`
	Name             string `json:"name"`
	KeyType          string `json:"keyType"`
	Algorithm        string `json:"algorithm"`
	Alias            string `json:"alias"`
	Fingerprint      string `json:"fingerprint"`
	DeployedRevision int64  `json:"deployedRevision"`
	Content          string `json:"content"` // base64 of the material as given
}

// BundleJWK is a deployed JWK as a gateway receives it; secret (oct) JWKs
// are included here, unlike the public JWKS.
type BundleJWK struct {
	Project          string          `json:"project"`
	Name             string          `json:"name"`
	Kid              string          `json:"kid"`
	Secret           bool            `json:"secret"`
	DeployedRevision int64           `json:"deployedRevision"`
	JWK              json.RawMessage `json:"jwk"`
}

// Bundle is everything deployed to one environment.
type Bundle struct {
	Environment string      `json:"environment"`
	Revision    int64       `json:"revision"`
	Keys        []BundleKey `json:"keys"`
	JWKs        []BundleJWK `json:"jwks"`
}

// ETag identifies a bundle: the revision grows on every deploy and undeploy.
func (b Bundle) ETag() string { return fmt.Sprintf(`"%s-%d"`, b.Environment, b.Revision) }

// Bundle returns what is deployed to envName, for that environment's
// gateway token only. Every read is audited, since it hands out secret
// material.
func (s *Service) Bundle(ctx context.Context, p access.Principal, envName string) (Bundle, error) {
	e := audit.For(p, "bundle.read")
	e.Environment, e.Object = envName, "bundle/"+envName
	if p.GatewayEnvironment != envName {
		return Bundle{}, s.audit.Refuse(ctx, e, errs.Errorf(errs.Forbidden, "Only a gateway token of environment %q can read its bundle.", envName))
	}
	q := s.db.Queries()
	env, err := environments.Load(ctx, q, envName)
	if err != nil {
		return Bundle{}, err
	}
	b := Bundle{Environment: env.Name, Revision: env.Revision, Keys: []BundleKey{}, JWKs: []BundleJWK{}}
	keys, err := q.ListDeployedKeyConfigs(ctx, env.ID)
	if err != nil {
		return Bundle{}, fmt.Errorf("bundle of %q: %w", envName, err)
	}
	for _, k := range keys {
		raw, err := s.sealer.Open(materialAAD(k.KeyConfig.KeyID, env.ID)+"/deployed", k.KeyConfig.DeployedMaterial)
		if err != nil {
			return Bundle{}, fmt.Errorf("bundle of %q: open key %q: %w", envName, k.KeyName, err)
		}
		b.Keys = append(b.Keys, BundleKey{Project: k.ProjectName, Name: k.KeyName, KeyType: k.KeyType, Algorithm: k.Algorithm,
			Alias: k.KeyConfig.Alias, Fingerprint: k.KeyConfig.DeployedFingerprint, DeployedRevision: k.KeyConfig.DeployedRevision.Int64,
			Content: base64.StdEncoding.EncodeToString(raw)})
	}
	jwks, err := q.ListDeployedJWKConfigs(ctx, env.ID)
	if err != nil {
		return Bundle{}, fmt.Errorf("bundle of %q: %w", envName, err)
	}
	for _, j := range jwks {
		raw := []byte(j.JwkConfig.DeployedJson)
		if j.Secret {
			if raw, err = s.sealer.Open(jwkAAD(j.JwkConfig.JwkID, env.ID)+"/deployed", j.JwkConfig.DeployedSealed); err != nil {
				return Bundle{}, fmt.Errorf("bundle of %q: open JWK %q: %w", envName, j.JwkName, err)
			}
		}
		b.JWKs = append(b.JWKs, BundleJWK{Project: j.ProjectName, Name: j.JwkName, Kid: j.JwkConfig.Kid, Secret: j.Secret,
			DeployedRevision: j.JwkConfig.DeployedRevision.Int64, JWK: raw})
	}
	e.Detail = fmt.Sprintf("revision %d: %d keys, %d JWKs", b.Revision, len(b.Keys), len(b.JWKs))
	if err := s.audit.Record(ctx, e); err != nil {
		return Bundle{}, err
	}
	return b, nil
}
