package keysets

// Organizations and their groups: who owns the consumer applications.

import (
	"context"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// Organization is an organization with its groups.
type Organization struct {
	queries.Organization
	Groups []string
}

func orgObject(name string) string { return "organization/" + name }

func loadOrg(ctx context.Context, q *queries.Queries, pr queries.Project, field, name string) (queries.Organization, error) {
	o, err := q.GetOrganization(ctx, queries.GetOrganizationParams{ProjectID: pr.ID, Name: name})
	return o, notFound(err, field, "Organization %q does not exist in project %q.", name, pr.Name)
}

func describeOrg(ctx context.Context, q *queries.Queries, o queries.Organization) (Organization, error) {
	gs, err := q.ListOrganizationGroups(ctx, o.ID)
	out := Organization{Organization: o, Groups: []string{}}
	for _, g := range gs {
		out.Groups = append(out.Groups, g.Name)
	}
	return out, err
}

// CreateOrganization creates an organization. KEY_SETS:MANAGE.
func (s *Service) CreateOrganization(ctx context.Context, p access.Principal, project, name, description string) (Organization, error) {
	var out Organization
	err := s.run(ctx, write(p, project, "organization.create", orgObject(name), manage), func(ctx context.Context, t *tx) error {
		if err := names.ValidateItem("name", "Organization", name); err != nil {
			return err
		}
		if err := names.ValidateDescription("description", description); err != nil {
			return err
		}
		now := t.Now()
		o, err := t.q.CreateOrganization(ctx, queries.CreateOrganizationParams{ProjectID: t.Project.ID, Name: name, Description: description, CreatedAt: now, UpdatedAt: now})
		if isUnique(err) {
			return errs.FieldErrorf("name", "An organization named %q already exists in project %q.", name, project)
		} else if err != nil {
			return err
		}
		out = Organization{Organization: o, Groups: []string{}}
		return t.Record(ctx, t.q, "organization.create", orgObject(name), "", "")
	})
	return out, err
}

// UpdateOrganization changes an organization's description. KEY_SETS:MANAGE.
func (s *Service) UpdateOrganization(ctx context.Context, p access.Principal, project, name, description string) (Organization, error) {
	var out Organization
	err := s.run(ctx, write(p, project, "organization.update", orgObject(name), manage), func(ctx context.Context, t *tx) error {
		o, err := loadOrg(ctx, t.q, t.Project, "", name)
		if err != nil {
			return err
		}
		if err := names.ValidateDescription("description", description); err != nil {
			return err
		}
		o.Description, o.UpdatedAt = description, t.Now()
		if err := t.q.UpdateOrganization(ctx, queries.UpdateOrganizationParams{Description: description, UpdatedAt: o.UpdatedAt, ID: o.ID}); err != nil {
			return err
		}
		if out, err = describeOrg(ctx, t.q, o); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "organization.update", orgObject(name), "", "")
	})
	return out, err
}

// DeleteOrganization deletes an organization that owns no application, with
// its groups. KEY_SETS:MANAGE.
func (s *Service) DeleteOrganization(ctx context.Context, p access.Principal, project, name string) error {
	return s.run(ctx, write(p, project, "organization.delete", orgObject(name), manage), func(ctx context.Context, t *tx) error {
		o, err := loadOrg(ctx, t.q, t.Project, "", name)
		if err != nil {
			return err
		}
		apps, err := t.q.ListApplicationNamesOfOrganization(ctx, o.ID)
		if err != nil {
			return err
		}
		if len(apps) > 0 {
			return errs.Errorf(errs.Conflict, "Organization %q owns application(s) %s; delete them or move them first.", name, joinNames(apps))
		}
		gs, err := t.q.ListOrganizationGroups(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if err := t.q.DeleteOrganizationGroup(ctx, g.ID); err != nil {
				return err
			}
		}
		if err := t.q.DeleteOrganization(ctx, o.ID); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "organization.delete", orgObject(name), "", fmt.Sprintf("with %d group(s)", len(gs)))
	})
}

// GetOrganization returns an organization. KEY_SETS:VIEW.
func (s *Service) GetOrganization(ctx context.Context, p access.Principal, project, name string) (Organization, error) {
	var out Organization
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		o, err := loadOrg(ctx, q, pr, "", name)
		if err != nil {
			return err
		}
		out, err = describeOrg(ctx, q, o)
		return err
	})
	return out, err
}

// ListOrganizations lists a project's organizations. KEY_SETS:VIEW.
func (s *Service) ListOrganizations(ctx context.Context, p access.Principal, project string) ([]Organization, error) {
	out := []Organization{}
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		os, err := q.ListOrganizations(ctx, pr.ID)
		if err != nil {
			return err
		}
		for _, o := range os {
			d, err := describeOrg(ctx, q, o)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

func groupObject(org, name string) string { return "organization/" + org + "/group/" + name }

// CreateGroup adds a group to an organization. KEY_SETS:MANAGE.
func (s *Service) CreateGroup(ctx context.Context, p access.Principal, project, org, name string) (queries.OrganizationGroup, error) {
	var out queries.OrganizationGroup
	err := s.run(ctx, write(p, project, "organization_group.create", groupObject(org, name), manage), func(ctx context.Context, t *tx) error {
		o, err := loadOrg(ctx, t.q, t.Project, "", org)
		if err != nil {
			return err
		}
		if err := names.ValidateItem("name", "Group", name); err != nil {
			return err
		}
		out, err = t.q.CreateOrganizationGroup(ctx, queries.CreateOrganizationGroupParams{OrganizationID: o.ID, Name: name, CreatedAt: t.Now()})
		if isUnique(err) {
			return errs.FieldErrorf("name", "Organization %q already has a group named %q.", org, name)
		} else if err != nil {
			return err
		}
		return t.Record(ctx, t.q, "organization_group.create", groupObject(org, name), "", "")
	})
	return out, err
}

// ListGroups lists an organization's groups. KEY_SETS:VIEW.
func (s *Service) ListGroups(ctx context.Context, p access.Principal, project, org string) ([]queries.OrganizationGroup, error) {
	var out []queries.OrganizationGroup
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		o, err := loadOrg(ctx, q, pr, "", org)
		if err != nil {
			return err
		}
		out, err = q.ListOrganizationGroups(ctx, o.ID)
		return err
	})
	return out, err
}

// DeleteGroup deletes a group no application belongs to. KEY_SETS:MANAGE.
func (s *Service) DeleteGroup(ctx context.Context, p access.Principal, project, org, name string) error {
	return s.run(ctx, write(p, project, "organization_group.delete", groupObject(org, name), manage), func(ctx context.Context, t *tx) error {
		o, err := loadOrg(ctx, t.q, t.Project, "", org)
		if err != nil {
			return err
		}
		g, err := t.q.GetOrganizationGroup(ctx, queries.GetOrganizationGroupParams{OrganizationID: o.ID, Name: name})
		if err != nil {
			return notFound(err, "", "Organization %q has no group %q.", org, name)
		}
		apps, err := t.q.ListApplicationNamesOfGroup(ctx, nullInt(g.ID, true))
		if err != nil {
			return err
		}
		if len(apps) > 0 {
			return errs.Errorf(errs.Conflict, "Group %q holds application(s) %s; move them first.", name, joinNames(apps))
		}
		if err := t.q.DeleteOrganizationGroup(ctx, g.ID); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "organization_group.delete", groupObject(org, name), "", "")
	})
}
