package signing

import (
	"context"
	"database/sql"
	"errors"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// GetSigner returns an alias with its timeline. SIGNING_KEYS:VIEW.
func (s *Service) GetSigner(ctx context.Context, p access.Principal, project, name string) (Signer, error) {
	var out Signer
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		sg, err := q.GetSigner(ctx, queries.GetSignerParams{ProjectID: pr.ID, Name: name})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Errorf(errs.NotFound, "Signer %q does not exist in project %q.", name, project)
		} else if err != nil {
			return err
		}
		out, err = s.describeSigner(ctx, q, sg)
		return err
	})
	return out, err
}

// ListSigners lists a project's aliases. SIGNING_KEYS:VIEW.
func (s *Service) ListSigners(ctx context.Context, p access.Principal, project string) ([]Signer, error) {
	var out []Signer
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		rows, err := q.ListSigners(ctx, pr.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			sg, err := s.describeSigner(ctx, q, r)
			if err != nil {
				return err
			}
			out = append(out, sg)
		}
		return nil
	})
	return out, err
}

func (s *Service) describeSigner(ctx context.Context, q *queries.Queries, sg queries.Signer) (Signer, error) {
	out := Signer{Signer: sg, Environments: []string{}}
	var err error
	if out.ActiveKey, err = q.GetSigningKeyByID(ctx, sg.ActiveKeyID); err != nil {
		return out, err
	}
	envs, err := q.ListSignerEnvironments(ctx, sg.ID)
	if err != nil {
		return out, err
	}
	for _, e := range envs {
		out.Environments = append(out.Environments, e.Name)
	}
	out.Steps, err = q.ListSignerSteps(ctx, sg.ID)
	return out, err
}

// SignWithAlias signs with the alias's active key. SIGNING_KEYS:SIGN.
func (s *Service) SignWithAlias(ctx context.Context, p access.Principal, project, name string, in SignInput) (Signed, error) {
	e := audit.For(p, "signer.sign")
	e.Project, e.Object = project, signerObject(name)
	key, err := s.signingKey(ctx, p, project, "signer", name, func(q *queries.Queries, pr queries.Project) (queries.SigningKey, error) {
		sg, err := q.GetSigner(ctx, queries.GetSignerParams{ProjectID: pr.ID, Name: name})
		if errors.Is(err, sql.ErrNoRows) {
			return queries.SigningKey{}, errs.Errorf(errs.NotFound, "Signer %q does not exist in project %q.", name, project)
		} else if err != nil {
			return queries.SigningKey{}, err
		}
		return q.GetSigningKeyByID(ctx, sg.ActiveKeyID)
	})
	if err != nil {
		return Signed{}, s.audit.Refuse(ctx, e, err)
	}
	out, detail, err := s.sign(ctx, key, in)
	if err != nil {
		return Signed{}, s.audit.Refuse(ctx, e, err)
	}
	e.Detail = "key " + key.CkaID + ", " + detail
	return out, s.audit.Journal(ctx, e)
}
