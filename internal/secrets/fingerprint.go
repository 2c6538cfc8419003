package secrets

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// A secret key's fingerprint is shown to anyone with SECRETS:VIEW. A plain
// SHA-256 of the key would let them test guesses offline (a DES key has 56
// bits), so it is an HMAC-SHA256 under a key derived from the master key:
// the same secret gives the same fingerprint in every environment of this
// instance, and nothing without the master key can compute it. Public-key
// fingerprints stay the SHA-256 of the PKIX key, which anyone may compute.
const FingerprintLabel = "secret key fingerprint v1"

// fingerprintVersion marks, in settings, that stored secret-key
// fingerprints are keyed (earlier releases stored the plain SHA-256).
const fingerprintVersion = "hmac-sha256-v1"

func (s *Service) secretFingerprint(secret []byte) string {
	m := hmac.New(sha256.New, s.fingerprintKey)
	m.Write(secret)
	return hex.EncodeToString(m.Sum(nil))
}

// UpgradeFingerprints replaces the plain SHA-256 fingerprints of secret
// keys that an earlier release stored with keyed ones, once (app start).
func (s *Service) UpgradeFingerprints(ctx context.Context) error {
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		v, err := q.GetSetting(ctx, "secret_key_fingerprints")
		if err == nil && v == fingerprintVersion {
			return nil
		}
		rows, err := q.ListSecretKeyConfigs(ctx)
		if err != nil {
			return fmt.Errorf("upgrade fingerprints: %w", err)
		}
		for _, r := range rows {
			binding := publish.SealBinding(typeKey, r.KeyID, r.EnvironmentID)
			raw, err := s.sealer.Open(binding, r.Material)
			if err != nil {
				return fmt.Errorf("upgrade fingerprint of key config %d: %w", r.ID, err)
			}
			fp, deployed := s.secretFingerprint(raw), ""
			if r.DeployedMaterial != nil {
				if raw, err = s.sealer.Open(binding+"/deployed", r.DeployedMaterial); err != nil {
					return fmt.Errorf("upgrade fingerprint of key config %d: %w", r.ID, err)
				}
				deployed = s.secretFingerprint(raw)
			}
			if err := q.SetKeyConfigFingerprints(ctx, queries.SetKeyConfigFingerprintsParams{Fingerprint: fp, DeployedFingerprint: deployed, ID: r.ID}); err != nil {
				return err
			}
		}
		return q.PutSetting(ctx, queries.PutSettingParams{Name: "secret_key_fingerprints", Value: fingerprintVersion})
	})
}
