// Package projects manages projects (the namespaces every key, certificate,
// JWK, signing key and key set belongs to) and their members' permissions.
package projects

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// Service manages projects and members.
type Service struct {
	db    *db.DB
	audit *audit.Log
	clock clock.Clock
	// Changed, when set, is called after a project is created or deleted
	// (the JWKS cache knows which projects exist).
	Changed func(context.Context)
}

func (s *Service) changed(ctx context.Context) {
	if s.Changed != nil {
		s.Changed(ctx)
	}
}

// NewService returns a projects Service.
func NewService(d *db.DB, a *audit.Log, c clock.Clock) *Service {
	return &Service{db: d, audit: a, clock: c}
}

// Project is a project with the permissions the asking principal holds in it.
type Project struct {
	queries.Project
	Permissions access.Set
}

// Member is a user's membership of a project.
type Member struct {
	Username    string
	Permissions access.Set
}

// Load returns the project named name, or a NotFound error. Other services
// use it inside their transactions.
func Load(ctx context.Context, q *queries.Queries, name string) (queries.Project, error) {
	pr, err := q.GetProjectByName(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return pr, errs.Errorf(errs.NotFound, "Project %q does not exist.", name)
	}
	if err != nil {
		return pr, fmt.Errorf("load project %q: %w", name, err)
	}
	return pr, nil
}

// Visible returns the project named name when p may see it: an admin, or a
// member holding any permission there. A project p may not see answers the
// same NotFound as one that does not exist, so that names cannot be probed.
func Visible(ctx context.Context, q *queries.Queries, p access.Principal, name string) (queries.Project, error) {
	if !p.Authenticated() {
		return queries.Project{}, errs.Errorf(errs.Unauthorized, "Authentication is required.")
	}
	pr, err := q.GetProjectByName(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return pr, hidden(name)
	}
	if err != nil {
		return pr, fmt.Errorf("load project %q: %w", name, err)
	}
	if p.Admin {
		return pr, nil
	}
	perms, err := access.Permissions(ctx, q, p, pr.ID)
	if err != nil {
		return pr, err
	}
	if len(perms) == 0 {
		return queries.Project{}, hidden(name)
	}
	return pr, nil
}

func hidden(name string) error {
	return errs.Errorf(errs.NotFound, "Project %q does not exist or you have no access to it.", name)
}

// Ref converts a project row for access checks.
func Ref(pr queries.Project) access.Project { return access.Project{ID: pr.ID, Name: pr.Name} }

// List returns the projects the principal can see: all for an admin, those
// they are a member of otherwise.
func (s *Service) List(ctx context.Context, p access.Principal) ([]Project, error) {
	if !p.Authenticated() {
		return nil, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	q := s.db.Queries()
	var rows []queries.Project
	var err error
	if p.Admin {
		rows, err = q.ListProjects(ctx)
	} else {
		rows, err = q.ListProjectsForUser(ctx, p.UserID)
	}
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	out := make([]Project, 0, len(rows))
	for _, r := range rows {
		perms, err := access.Permissions(ctx, q, p, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, Project{Project: r, Permissions: perms})
	}
	return out, nil
}

// Get returns one project with p's permissions in it; a project p cannot
// see is NotFound (see Visible).
func (s *Service) Get(ctx context.Context, p access.Principal, name string) (Project, error) {
	if !p.Authenticated() {
		return Project{}, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	q := s.db.Queries()
	pr, err := Visible(ctx, q, p, name)
	if err != nil {
		return Project{}, err
	}
	perms, err := access.Permissions(ctx, q, p, pr.ID)
	if err != nil {
		return Project{}, err
	}
	return Project{Project: pr, Permissions: perms}, nil
}

// Create creates a project (admins only).
func (s *Service) Create(ctx context.Context, p access.Principal, name, description string) (queries.Project, error) {
	var pr queries.Project
	if err := access.RequireAdmin(p); err != nil {
		return pr, s.refuse(ctx, p, "project.create", name, err)
	}
	if err := names.Validate("name", "Project", name); err != nil {
		return pr, err
	}
	if err := names.ValidateDescription("description", description); err != nil {
		return pr, err
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		if _, err := q.GetProjectByName(ctx, name); err == nil {
			return errs.FieldErrorf("name", "A project named %q already exists.", name)
		}
		now := s.clock.Now()
		var err error
		pr, err = q.CreateProject(ctx, queries.CreateProjectParams{Name: name, Description: strings.TrimSpace(description), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		e := audit.For(p, "project.create")
		e.Project, e.Object = name, "project/"+name
		return s.audit.Append(ctx, q, e)
	})
	if err != nil {
		return pr, fmt.Errorf("create project %q: %w", name, err)
	}
	s.changed(ctx)
	return pr, nil
}

// UpdateDescription changes a project's description (admins only).
func (s *Service) UpdateDescription(ctx context.Context, p access.Principal, name, description string) error {
	if err := access.RequireAdmin(p); err != nil {
		return s.refuse(ctx, p, "project.update", name, err)
	}
	if err := names.ValidateDescription("description", description); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		pr, err := Load(ctx, q, name)
		if err != nil {
			return err
		}
		if err := q.UpdateProjectDescription(ctx, queries.UpdateProjectDescriptionParams{Description: strings.TrimSpace(description), UpdatedAt: s.clock.Now(), ID: pr.ID}); err != nil {
			return err
		}
		e := audit.For(p, "project.update")
		e.Project, e.Object = name, "project/"+name
		return s.audit.Append(ctx, q, e)
	})
}

// Delete deletes an empty project (admins only). Its memberships go with it.
func (s *Service) Delete(ctx context.Context, p access.Principal, name string) error {
	if err := access.RequireAdmin(p); err != nil {
		return s.refuse(ctx, p, "project.delete", name, err)
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		pr, err := Load(ctx, q, name)
		if err != nil {
			return err
		}
		if what, err := contents(ctx, q, pr.ID); err != nil {
			return err
		} else if what != "" {
			return errs.Errorf(errs.Conflict, "Project %q still holds %s; delete them first.", name, what)
		}
		if err := q.DeleteProject(ctx, pr.ID); err != nil {
			return err
		}
		e := audit.For(p, "project.delete")
		e.Project, e.Object = name, "project/"+name
		return s.audit.Append(ctx, q, e)
	})
	if err == nil {
		s.changed(ctx)
	}
	return err
}

// contents describes what a project still holds ("3 keys and 1 JWK"), or
// "" when it is empty. Members do not count.
func contents(ctx context.Context, q *queries.Queries, projectID int64) (string, error) {
	var parts []string
	for _, c := range []struct {
		count func(context.Context, int64) (int64, error)
		what  string
	}{{q.CountKeysInProject, "key(s)"}, {q.CountJWKsInProject, "JWK(s)"}, {q.CountCertificatesInProject, "certificate(s)"},
		{q.CountSigningKeysInProject, "signing key(s)"}, {q.CountKeySetsInProject, "key set area item(s) (key sets, organizations, policy templates)"}} {
		n, err := c.count(ctx, projectID)
		if err != nil {
			return "", err
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	if len(parts) > 2 {
		return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1], nil
	}
	return strings.Join(parts, " and "), nil
}

func (s *Service) refuse(ctx context.Context, p access.Principal, action, project string, cause error) error {
	e := audit.For(p, action)
	e.Project, e.Object = project, "project/"+project
	return s.audit.Refuse(ctx, e, cause)
}

// Areas is what a project holds in each area, for the project navigation.
type Areas struct {
	Project      Project // with the principal's permissions
	Keys         int64
	Certificates int64
	JWKs         int64
	SigningKeys  int64
	KeySets      int64
	APIs         int64
	// TruststoreCAs counts the CAs added to every environment's truststore
	// (truststores belong to environments, not projects).
	TruststoreCAs     int64
	NotificationRules int64
	AuditEntries      int64 // at most AuditCountCap
}

// AuditCountCap bounds Areas.AuditEntries: counting a busy project's whole
// log on every page would cost more than the number is worth.
const AuditCountCap = 1000

// Areas returns the project with p's permissions and the count of each
// area's objects, read in one transaction. A project p cannot see is
// NotFound.
func (s *Service) Areas(ctx context.Context, p access.Principal, name string) (Areas, error) {
	var out Areas
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := Visible(ctx, q, p, name)
		if err != nil {
			return err
		}
		perms, err := access.Permissions(ctx, q, p, pr.ID)
		if err != nil {
			return err
		}
		out, err = CountAreas(ctx, q, Project{Project: pr, Permissions: perms})
		return err
	})
	return out, err
}

// CountAreas counts what each area of pr holds, in q's transaction: for a
// caller that already loaded the project (and checked it may see it).
func CountAreas(ctx context.Context, q *queries.Queries, pr Project) (Areas, error) {
	c, err := q.ProjectAreaCounts(ctx, queries.ProjectAreaCountsParams{ProjectID: pr.ID, ProjectName: pr.Name})
	if err != nil {
		return Areas{}, fmt.Errorf("count project %s: %w", pr.Name, err)
	}
	return Areas{Project: pr, Keys: c.Keys, Certificates: c.Certificates, JWKs: c.Jwks,
		SigningKeys: c.SigningKeys, KeySets: c.KeySets, APIs: c.Apis, TruststoreCAs: c.TruststoreCas,
		NotificationRules: c.NotificationRules, AuditEntries: c.AuditEntries}, nil
}
