package signing

import (
	"context"
	"database/sql"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/queries"
)

func describe(ctx context.Context, q *queries.Queries, k queries.SigningKey) (Key, error) {
	j, err := jwkOf(k)
	if err != nil {
		return Key{}, err
	}
	out := Key{SigningKey: k, JWK: j, PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.PublicDer})), Published: []string{}}
	pubs, err := q.ListSigningKeyPublications(ctx, k.ID)
	if err != nil {
		return Key{}, err
	}
	for _, p := range pubs {
		out.Published = append(out.Published, p.EnvironmentName)
	}
	return out, nil
}

// viewer checks SIGNING_KEYS:VIEW.
func viewer(ctx context.Context, q *queries.Queries, p access.Principal, project string) (queries.Project, error) {
	pr, err := projects.Visible(ctx, q, p, project)
	if err != nil {
		return pr, err
	}
	return pr, access.Require(ctx, q, p, projects.Ref(pr), access.SigningKeysView)
}

func loadKey(ctx context.Context, q *queries.Queries, pr queries.Project, ckaID string) (queries.SigningKey, error) {
	k, err := q.GetSigningKey(ctx, queries.GetSigningKeyParams{ProjectID: pr.ID, CkaID: strings.ToLower(ckaID)})
	if errors.Is(err, sql.ErrNoRows) {
		return k, errs.Errorf(errs.NotFound, "Project %q has no signing key with CKA_ID %s.", pr.Name, ckaID)
	}
	return k, err
}

// KeyPage is a page of a project's signing keys.
type KeyPage struct {
	Keys        []Key
	Total       int64
	Page, Size  int
	SharedLabel map[string]bool // labels more than one key has (told apart by CKA_ID)
}

// ListKeys returns a page of a project's signing keys. SIGNING_KEYS:VIEW.
func (s *Service) ListKeys(ctx context.Context, p access.Principal, project, search string, page, size int) (KeyPage, error) {
	if size <= 0 || size > 200 {
		size = 25
	}
	if page <= 0 {
		page = 1
	}
	out := KeyPage{Page: page, Size: size, Keys: []Key{}, SharedLabel: map[string]bool{}}
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		search = strings.ToLower(strings.TrimSpace(search))
		rows, err := q.ListSigningKeys(ctx, queries.ListSigningKeysParams{ProjectID: pr.ID, Search: search, Lim: int64(size), Off: int64((page - 1) * size)})
		if err != nil {
			return err
		}
		if out.Total, err = q.CountSigningKeys(ctx, queries.CountSigningKeysParams{ProjectID: pr.ID, Search: search}); err != nil {
			return err
		}
		for _, r := range rows {
			k, err := describe(ctx, q, r)
			if err != nil {
				return err
			}
			out.Keys = append(out.Keys, k)
		}
		shared, err := q.ListSharedSigningKeyLabels(ctx, pr.ID)
		for _, l := range shared {
			out.SharedLabel[l] = true
		}
		return err
	})
	return out, err
}

// GetKey returns one signing key. SIGNING_KEYS:VIEW.
func (s *Service) GetKey(ctx context.Context, p access.Principal, project, ckaID string) (Key, error) {
	var out Key
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		k, err := loadKey(ctx, q, pr, ckaID)
		if err != nil {
			return err
		}
		out, err = describe(ctx, q, k)
		return err
	})
	return out, err
}

// Require returns the refusal a write would give p without perms in the
// project (a project p cannot see is NotFound), so that a form is refused
// before it is filled in, with the service's own message.
func (s *Service) Require(ctx context.Context, p access.Principal, project string, perms ...access.Permission) error {
	return s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		return access.Require(ctx, q, p, projects.Ref(pr), perms...)
	})
}
