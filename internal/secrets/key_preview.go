package secrets

import (
	"context"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
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
	var out KeyConfigPreview
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		if err := access.Require(ctx, q, p, projects.Ref(pr), access.SecretsManage); err != nil {
			return err
		}
		var key queries.Key
		kp := &keyParser{s: s}
		current := map[string]queries.KeyConfig{}
		if def.Key != "" {
			if key, err = loadKey(ctx, q, pr, def.Key); err != nil {
				return err
			}
			def.Type, def.Algorithm = key.KeyType, key.Algorithm
			rows, err := q.ListKeyConfigs(ctx, key.ID)
			if err != nil {
				return err
			}
			if kp.keep, _, err = s.openConfigs(key, rows); err != nil {
				return err
			}
			for _, r := range rows {
				current[r.Environment.Name] = r.KeyConfig
			}
		}
		t, err := keymaterial.ParseType("keyType", def.Type)
		if err != nil {
			return err
		}
		if kp.alg, err = keymaterial.ParseAlgorithm("algorithm", t, def.Algorithm); err != nil {
			return err
		}
		kp.t = t
		if in.Content == nil && key.ID == 0 {
			in.Content = []byte{} // a new key needs material: reported as empty
		}
		prepared, err := publish.Prepare(ctx, q, "configs", []ConfigInput{in}, kp.parse)
		if err != nil {
			return err
		}
		pc := prepared[0]
		m := pc.Parsed.material
		out = KeyConfigPreview{Environment: pc.Env.Name, State: ConfigNew, Format: m.Format, Algorithm: string(m.Algorithm),
			Bits: m.Bits, Curve: m.Curve, Fingerprint: m.Fingerprint, Warning: m.Warning}
		if kc, ok := current[pc.Env.Name]; ok {
			out.State, out.DeployedRevision = ConfigReplaced, kc.DeployedRevision.Int64
			if pc.Parsed.raw == nil || kc.Fingerprint == m.Fingerprint {
				out.State = ConfigUnchanged
				out.Format, out.Warning = kc.Format, kc.Warning
			}
		}
		return nil
	})
	return out, err
}
