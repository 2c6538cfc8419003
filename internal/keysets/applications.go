package keysets

// Consumer applications: they belong to an organization (and optionally
// one of its groups), subscribe to APIs and own key sets. Suspending one
// suspends its active key sets; reactivating it reactivates those it
// suspended, not those suspended on their own.

import (
	"context"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// Application statuses.
const (
	AppActive    = "ACTIVE"
	AppSuspended = "SUSPENDED"
)

// ApplicationInput is an application to create or replace.
type ApplicationInput struct {
	Name         string
	Description  string
	Organization string
	Group        string // optional
}

// Application is an application with its organization and group names.
type Application = queries.GetApplicationRow

func appObject(name string) string { return "application/" + name }

func loadApp(ctx context.Context, q *queries.Queries, pr queries.Project, name string) (Application, error) {
	a, err := q.GetApplication(ctx, queries.GetApplicationParams{ProjectID: pr.ID, Name: name})
	return a, notFound(err, "", "Application %q does not exist in project %q.", name, pr.Name)
}

// owner resolves the organization and group an application belongs to.
func owner(ctx context.Context, t *tx, in ApplicationInput) (queries.Organization, int64, bool, error) {
	if in.Organization == "" {
		return queries.Organization{}, 0, false, errs.FieldErrorf("organization", "Choose the organization the application belongs to: it is required.")
	}
	o, err := loadOrg(ctx, t.q, t.Project, "organization", in.Organization)
	if err != nil || in.Group == "" {
		return o, 0, false, err
	}
	g, err := t.q.GetOrganizationGroup(ctx, queries.GetOrganizationGroupParams{OrganizationID: o.ID, Name: in.Group})
	if err != nil {
		return o, 0, false, notFound(err, "group", "Organization %q has no group %q.", in.Organization, in.Group)
	}
	return o, g.ID, true, nil
}

// CreateApplication creates an application (ACTIVE). KEY_SETS:MANAGE.
func (s *Service) CreateApplication(ctx context.Context, p access.Principal, project string, in ApplicationInput) (Application, error) {
	var out Application
	err := s.run(ctx, write(p, project, "application.create", appObject(in.Name), manage), func(ctx context.Context, t *tx) error {
		if err := names.ValidateItem("name", "Application", in.Name); err != nil {
			return err
		}
		if err := names.ValidateDescription("description", in.Description); err != nil {
			return err
		}
		o, gid, hasGroup, err := owner(ctx, t, in)
		if err != nil {
			return err
		}
		now := t.Now()
		_, err = t.q.CreateApplication(ctx, queries.CreateApplicationParams{ProjectID: t.Project.ID, OrganizationID: o.ID, GroupID: nullInt(gid, hasGroup),
			Name: in.Name, Description: in.Description, CreatedAt: now, UpdatedAt: now})
		if isUnique(err) {
			return errs.FieldErrorf("name", "An application named %q already exists in project %q.", in.Name, project)
		} else if err != nil {
			return err
		}
		if out, err = loadApp(ctx, t.q, t.Project, in.Name); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "application.create", appObject(in.Name), "", "organization "+o.Name)
	})
	return out, err
}

// UpdateApplication replaces an application's description, organization
// and group. KEY_SETS:MANAGE.
func (s *Service) UpdateApplication(ctx context.Context, p access.Principal, project, name string, in ApplicationInput) (Application, error) {
	var out Application
	err := s.run(ctx, write(p, project, "application.update", appObject(name), manage), func(ctx context.Context, t *tx) error {
		a, err := loadApp(ctx, t.q, t.Project, name)
		if err != nil {
			return err
		}
		if in.Name != "" && in.Name != name {
			return errs.FieldErrorf("name", "An application is never renamed (this one is %q).", name)
		}
		if err := names.ValidateDescription("description", in.Description); err != nil {
			return err
		}
		o, gid, hasGroup, err := owner(ctx, t, in)
		if err != nil {
			return err
		}
		if err := t.q.UpdateApplication(ctx, queries.UpdateApplicationParams{Description: in.Description, OrganizationID: o.ID,
			GroupID: nullInt(gid, hasGroup), UpdatedAt: t.Now(), ID: a.ID}); err != nil {
			return err
		}
		if out, err = loadApp(ctx, t.q, t.Project, name); err != nil {
			return err
		}
		// The verify index names each key set's organization.
		sets, err := t.q.ListKeySetsOfApplication(ctx, a.ID)
		for _, ks := range sets {
			t.touch(ks.ID)
		}
		if err != nil {
			return err
		}
		return t.Record(ctx, t.q, "application.update", appObject(name), "", "organization "+o.Name)
	})
	return out, err
}

// DeleteApplication deletes an application with no subscription left; its
// key sets (revoked by then) are withdrawn from their environments and
// deleted with it. KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) DeleteApplication(ctx context.Context, p access.Principal, project, name string) error {
	return s.run(ctx, write(p, project, "application.delete", appObject(name), deployPerms), func(ctx context.Context, t *tx) error {
		a, err := loadApp(ctx, t.q, t.Project, name)
		if err != nil {
			return err
		}
		subs, err := t.q.ListSubscriptionsOfApplication(ctx, a.ID)
		if err != nil {
			return err
		}
		if len(subs) > 0 {
			var apis []string
			for _, sb := range subs {
				apis = append(apis, sb.ApiName+" ("+sb.EnvironmentName+")")
			}
			return errs.Errorf(errs.Conflict, "Application %q is subscribed to %s; unsubscribe it first.", name, joinNames(apis))
		}
		sets, err := t.q.ListKeySetsOfApplication(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, ks := range sets {
			if err := s.undeploy(ctx, t, ks); err != nil {
				return err
			}
			if err := t.q.DeleteKeySet(ctx, ks.ID); err != nil {
				return err
			}
			t.touch(ks.ID)
		}
		if err := t.q.DeleteApplication(ctx, a.ID); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "application.delete", appObject(name), "", fmt.Sprintf("with %d key set(s)", len(sets)))
	})
}

// GetApplication returns an application. KEY_SETS:VIEW.
func (s *Service) GetApplication(ctx context.Context, p access.Principal, project, name string) (Application, error) {
	var out Application
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		var err error
		out, err = loadApp(ctx, q, pr, name)
		return err
	})
	return out, err
}

// ListApplications lists a project's applications. KEY_SETS:VIEW.
func (s *Service) ListApplications(ctx context.Context, p access.Principal, project string) ([]Application, error) {
	out := []Application{}
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		rows, err := q.ListApplications(ctx, pr.ID)
		for _, r := range rows {
			out = append(out, Application(r))
		}
		return err
	})
	return out, err
}

// SuspendApplication suspends an application and, with it, each of its
// ACTIVE key sets (remembered as suspended by the application). KEY_SETS:MANAGE
// and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) SuspendApplication(ctx context.Context, p access.Principal, project, name string) (Application, error) {
	return s.setAppStatus(ctx, p, project, name, AppSuspended)
}

// ReactivateApplication reactivates a suspended application and the key
// sets its suspension suspended. KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) ReactivateApplication(ctx context.Context, p access.Principal, project, name string) (Application, error) {
	return s.setAppStatus(ctx, p, project, name, AppActive)
}

func (s *Service) setAppStatus(ctx context.Context, p access.Principal, project, name, to string) (Application, error) {
	var out Application
	verb := map[string]string{AppSuspended: "suspend", AppActive: "reactivate"}[to]
	err := s.run(ctx, write(p, project, "application."+verb, appObject(name), deployPerms), func(ctx context.Context, t *tx) error {
		a, err := loadApp(ctx, t.q, t.Project, name)
		if err != nil {
			return err
		}
		if a.Status == to {
			return stateConflict("Application %q is %s already.", name, a.Status)
		}
		if err := t.q.SetApplicationStatus(ctx, queries.SetApplicationStatusParams{Status: to, UpdatedAt: t.Now(), ID: a.ID}); err != nil {
			return err
		}
		sets, err := t.q.ListKeySetsOfApplication(ctx, a.ID)
		if err != nil {
			return err
		}
		n := 0
		for _, ks := range sets {
			switch {
			case to == AppSuspended && ks.Status == Active:
				err = s.transition(ctx, t, ks, Suspended, true, EventSuspended, "with application "+name)
			case to == AppActive && ks.Status == Suspended && ks.SuspendedByApplication:
				err = s.transition(ctx, t, ks, Active, false, EventActivated, "with application "+name)
			default:
				continue
			}
			if err != nil {
				return err
			}
			n++
		}
		if out, err = loadApp(ctx, t.q, t.Project, name); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "application."+verb, appObject(name), "", fmt.Sprintf("%d key set(s) with it", n))
	})
	return out, err
}
