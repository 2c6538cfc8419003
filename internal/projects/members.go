package projects

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Members lists a project's members; any member (or an admin) may read it.
func (s *Service) Members(ctx context.Context, p access.Principal, project string) ([]Member, error) {
	q := s.db.Queries()
	pr, err := Visible(ctx, q, p, project)
	if err != nil {
		return nil, err
	}
	rows, err := q.ListProjectMembers(ctx, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("list members of %q: %w", project, err)
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = Member{Username: r.Username, Permissions: access.Decode(r.Permissions)}
	}
	return out, nil
}

// SetMember sets a user's permissions in a project (admins only); an empty
// set removes the membership.
func (s *Service) SetMember(ctx context.Context, p access.Principal, project, username string, perms access.Set) error {
	e := audit.For(p, "project.member.set")
	e.Project, e.Object, e.Detail = project, "user/"+username, perms.Encode()
	if err := access.RequireAdmin(p); err != nil {
		return s.audit.Refuse(ctx, e, err)
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		pr, err := Load(ctx, q, project)
		if err != nil {
			return err
		}
		u, err := q.GetUserByUsername(ctx, username)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.FieldErrorf("username", "User %q does not exist.", username)
		}
		if err != nil {
			return err
		}
		if len(perms) == 0 {
			e.Action = "project.member.remove"
			err = q.DeleteProjectMember(ctx, queries.DeleteProjectMemberParams{ProjectID: pr.ID, UserID: u.ID})
		} else {
			err = q.UpsertProjectMember(ctx, queries.UpsertProjectMemberParams{ProjectID: pr.ID, UserID: u.ID, Permissions: perms.Encode(), UpdatedAt: s.clock.Now()})
		}
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, q, e)
	})
}
