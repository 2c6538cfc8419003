package secrets

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// KeyFilter selects keys in a project's list.
type KeyFilter struct {
	Search      string
	Type        string
	Algorithm   string
	Environment string
	Page, Size  int
}

// KeyEnvironment is a key's state in one environment, without material.
type KeyEnvironment struct {
	Environment         string
	Alias               string
	Source              string
	FileName            string
	Format              string
	Bits                int64
	Curve               string
	Fingerprint         string
	Warning             string
	DeployedRevision    int64 // 0: not deployed
	DeployedFingerprint string
	Changed             bool // deployed, but the current material differs
}

// KeySummary is a key in a list or on its page.
type KeySummary struct {
	queries.Key
	Environments []KeyEnvironment
}

// KeyPage is one page of a project's keys.
type KeyPage struct {
	Keys  []KeySummary
	Total int64
	Page  int
	Size  int
}

func environmentOf(kc queries.KeyConfig, env string) KeyEnvironment {
	return KeyEnvironment{Environment: env, Alias: kc.Alias, Source: kc.Source, FileName: kc.FileName, Format: kc.Format,
		Bits: kc.Bits, Curve: kc.Curve, Fingerprint: kc.Fingerprint, Warning: kc.Warning,
		DeployedRevision: kc.DeployedRevision.Int64, DeployedFingerprint: kc.DeployedFingerprint,
		Changed: kc.DeployedRevision.Valid && kc.DeployedFingerprint != kc.Fingerprint}
}

// ListKeys returns a page of a project's keys (never material), read in
// one transaction so that the page and its total agree.
func (s *Service) ListKeys(ctx context.Context, p access.Principal, project string, f KeyFilter) (KeyPage, error) {
	if f.Size <= 0 || f.Size > 200 {
		f.Size = 25
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	out := KeyPage{Page: f.Page, Size: f.Size}
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		var envID int64
		if f.Environment != "" {
			env, err := environments.Load(ctx, q, f.Environment)
			if err != nil {
				return errs.FieldErrorf("environment", "Environment %q does not exist.", f.Environment)
			}
			envID = env.ID
		}
		search := strings.ToLower(strings.TrimSpace(f.Search))
		rows, err := q.ListKeys(ctx, queries.ListKeysParams{ProjectID: pr.ID, Search: search, KeyType: f.Type, Algorithm: f.Algorithm,
			EnvironmentID: envID, Lim: int64(f.Size), Off: int64((f.Page - 1) * f.Size)})
		if err != nil {
			return err
		}
		out.Total, err = q.CountKeys(ctx, queries.CountKeysParams{ProjectID: pr.ID, Search: search, KeyType: f.Type, Algorithm: f.Algorithm, EnvironmentID: envID})
		if err != nil {
			return err
		}
		configs, err := q.ListKeyConfigsForProject(ctx, pr.ID)
		if err != nil {
			return err
		}
		byKey := map[int64][]KeyEnvironment{}
		for _, c := range configs {
			byKey[c.KeyConfig.KeyID] = append(byKey[c.KeyConfig.KeyID], environmentOf(c.KeyConfig, c.EnvironmentName))
		}
		out.Keys = make([]KeySummary, len(rows))
		for i, k := range rows {
			out.Keys[i] = KeySummary{Key: k, Environments: byKey[k.ID]}
		}
		return nil
	})
	return out, err
}

// KeyDetail is a key's page: definition, configurations, related JWKs and
// its most recent audit entries.
type KeyDetail struct {
	KeySummary
	JWKs    []queries.Jwk
	History []queries.AuditLog
}

// GetKey returns a key's details (never material).
func (s *Service) GetKey(ctx context.Context, p access.Principal, project, name string) (KeyDetail, error) {
	var d KeyDetail
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		key, err := loadKey(ctx, q, pr, name)
		if err != nil {
			return err
		}
		rows, err := q.ListKeyConfigs(ctx, key.ID)
		if err != nil {
			return err
		}
		d = KeyDetail{KeySummary: KeySummary{Key: key}}
		for _, r := range rows {
			d.Environments = append(d.Environments, environmentOf(r.KeyConfig, r.Environment.Name))
		}
		d.JWKs, err = relatedJWKs(ctx, q, keySource{key: key})
		return err
	})
	if err != nil {
		return KeyDetail{}, err
	}
	hist, err := s.audit.List(ctx, audit.Filter{Project: project, Object: typeKey.Object(name), Size: 20})
	d.History = hist.Entries
	return d, err
}

// JWKEnvironment is a JWK's state in one environment.
type JWKEnvironment struct {
	Environment      string
	Kid              string
	PublicJSON       string // "" for a secret JWK
	DeployedRevision int64
}

// JWKDetail is a JWK with its per-environment JSON.
type JWKDetail struct {
	queries.Jwk
	Connected    bool
	Environments []JWKEnvironment
}

// ListJWKs lists a project's JWKs.
func (s *Service) ListJWKs(ctx context.Context, p access.Principal, project string) ([]JWKDetail, error) {
	var out []JWKDetail
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		rows, err := q.ListJWKs(ctx, pr.ID)
		if err != nil {
			return err
		}
		out = make([]JWKDetail, len(rows))
		for i, j := range rows {
			if out[i], err = jwkDetail(ctx, q, j); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// GetJWK returns one JWK.
func (s *Service) GetJWK(ctx context.Context, p access.Principal, project, name string) (JWKDetail, error) {
	var d JWKDetail
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		j, err := q.GetJWKByName(ctx, queries.GetJWKByNameParams{ProjectID: pr.ID, Name: name})
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("JWK", name, project)
		} else if err != nil {
			return err
		}
		d, err = jwkDetail(ctx, q, j)
		return err
	})
	return d, err
}

func jwkDetail(ctx context.Context, q *queries.Queries, j queries.Jwk) (JWKDetail, error) {
	rows, err := q.ListJWKConfigs(ctx, j.ID)
	if err != nil {
		return JWKDetail{}, err
	}
	d := JWKDetail{Jwk: j, Connected: j.SourceID.Valid}
	for _, r := range rows {
		d.Environments = append(d.Environments, JWKEnvironment{Environment: r.Environment.Name, Kid: r.JwkConfig.Kid,
			PublicJSON: r.JwkConfig.PublicJson, DeployedRevision: r.JwkConfig.DeployedRevision.Int64})
	}
	return d, nil
}

// JWKS returns the public JWKS of a project's environment, from memory
// only: an empty set when the pair exists but publishes nothing yet.
func (s *Service) JWKS(project, env string) (*JWKSet, error) {
	if set, ok := s.jwkSets.Get(project, env); ok {
		return set, nil
	}
	return nil, errs.Errorf(errs.NotFound, "There is no project %q with an environment %q.", project, env)
}
