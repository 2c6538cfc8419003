package secrets

import (
	"context"
	"database/sql"
	"errors"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/queries"
)

// KeyDefinition is what one configuration is checked against: the key's
// type and algorithm ("" to infer it), or, when Key names an existing key,
// that key's own type, algorithm and current configurations.
type KeyDefinition struct {
	Key       string
	Type      string
	Algorithm string
}

// States of a configuration in the wizard, against what is stored.
const (
	ConfigNew       = "new"       // the key has no configuration in the environment yet
	ConfigUnchanged = "unchanged" // the stored material is kept
	ConfigReplaced  = "replaced"  // new material replaces the stored one
)

// KeyConfigPreview describes one configuration's material as a save would
// store it, for the wizard's Configuration table. It carries no material.
type KeyConfigPreview struct {
	Environment      string
	State            string
	Format           string
	Algorithm        string
	Bits             int
	Curve            string
	Fingerprint      string
	Warning          string
	DeployedRevision int64 // 0: not deployed
}

// PreviewKeyConfig checks one configuration the way a save would (the
// environment exists, the material fits the type and algorithm) and
// describes it, so that the wizard can list it before the key is saved.
// It needs SECRETS:MANAGE and writes nothing, not even to the audit log:
// the save checks everything again.
func (s *Service) PreviewKeyConfig(ctx context.Context, p access.Principal, project string, def KeyDefinition, in ConfigInput) (KeyConfigPreview, error) {
	q := s.db.Queries()
	pr, err := projects.Load(ctx, q, project)
	if err != nil {
		return KeyConfigPreview{}, err
	}
	if err := access.Require(ctx, q, p, projects.Ref(pr), access.SecretsManage); err != nil {
		return KeyConfigPreview{}, err
	}
	var key queries.Key
	if def.Key != "" {
		if key, err = loadKey(ctx, q, pr, def.Key); err != nil {
			return KeyConfigPreview{}, err
		}
		def.Type, def.Algorithm = key.KeyType, key.Algorithm
	}
	t, err := keymaterial.ParseType("keyType", def.Type)
	if err != nil {
		return KeyConfigPreview{}, err
	}
	alg, err := keymaterial.ParseAlgorithm("algorithm", t, def.Algorithm)
	if err != nil {
		return KeyConfigPreview{}, err
	}
	envField := in.Field + ".environmentName"
	if in.Environment == "" {
		return KeyConfigPreview{}, errs.FieldErrorf(envField, "%s is required.", envField)
	}
	env, err := environments.Load(ctx, q, in.Environment)
	if errs.Is(err, errs.NotFound) {
		return KeyConfigPreview{}, errs.FieldErrorf(envField, "%s: environment %q does not exist.", envField, in.Environment)
	} else if err != nil {
		return KeyConfigPreview{}, err
	}
	if len(in.Alias) > 200 {
		return KeyConfigPreview{}, errs.FieldErrorf(in.Field+".alias", "%s.alias must be at most 200 characters.", in.Field)
	}
	out := KeyConfigPreview{Environment: env.Name, State: ConfigNew}
	var current *queries.KeyConfig
	if key.ID != 0 {
		kc, err := q.GetKeyConfig(ctx, queries.GetKeyConfigParams{KeyID: key.ID, EnvironmentID: env.ID})
		if err == nil {
			current, out.State, out.DeployedRevision = &kc, ConfigReplaced, kc.DeployedRevision.Int64
		} else if !errors.Is(err, sql.ErrNoRows) {
			return KeyConfigPreview{}, err
		}
	}
	if in.Content == nil && current != nil {
		out.State = ConfigUnchanged
		out.Format, out.Algorithm, out.Bits, out.Curve = current.Format, key.Algorithm, int(current.Bits), current.Curve
		out.Fingerprint, out.Warning = current.Fingerprint, current.Warning
		return out, nil
	}
	if in.Content == nil && key.ID != 0 {
		return KeyConfigPreview{}, errs.FieldErrorf(in.Field+".content", "%s.content is required: the key has no material in environment %q yet.", in.Field, env.Name)
	}
	m, err := keymaterial.Parse(in.Field+".content", t, alg, in.Content)
	if err != nil {
		return KeyConfigPreview{}, err
	}
	if current != nil && current.Fingerprint == m.Fingerprint {
		out.State = ConfigUnchanged
	}
	out.Format, out.Algorithm, out.Bits, out.Curve = m.Format, string(m.Algorithm), m.Bits, m.Curve
	out.Fingerprint, out.Warning = m.Fingerprint, m.Warning
	return out, nil
}

// RequireManage returns the refusal a key or JWK write would give a
// principal without SECRETS:MANAGE, so that a form is refused before it is
// filled in, with the service's own message.
func (s *Service) RequireManage(ctx context.Context, p access.Principal, project string) error {
	q := s.db.Queries()
	pr, err := projects.Load(ctx, q, project)
	if err != nil {
		return err
	}
	return access.Require(ctx, q, p, projects.Ref(pr), access.SecretsManage)
}
