package keysets

// The API catalog: APIs, the environments they run in, their
// authentication types and policy template.

import (
	"context"
	"slices"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// APIInput is an API to create or replace.
type APIInput struct {
	Name           string
	Description    string
	Environments   []string
	AuthTypes      []string
	PolicyTemplate string
}

// API is a catalog entry with its environments and subscribers.
type API struct {
	ID             int64
	Name           string
	Description    string
	PolicyTemplate string
	AuthTypes      []string
	Environments   []string
	Subscriptions  []Subscription
}

func apiObject(name string) string { return "api/" + name }

func loadAPI(ctx context.Context, q *queries.Queries, pr queries.Project, field, name string) (queries.GetAPIRow, error) {
	if name == "" && field != "" {
		return queries.GetAPIRow{}, errs.FieldErrorf(field, "Choose the API: it is required.")
	}
	a, err := q.GetAPI(ctx, queries.GetAPIParams{ProjectID: pr.ID, Name: name})
	return a, notFound(err, field, "API %q does not exist in project %q.", name, pr.Name)
}

func describeAPI(ctx context.Context, q *queries.Queries, a queries.GetAPIRow) (API, error) {
	out := API{ID: a.ID, Name: a.Name, Description: a.Description, PolicyTemplate: a.PolicyName, AuthTypes: splitAuthTypes(a.AuthTypes),
		Subscriptions: []Subscription{}}
	var err error
	if out.Environments, err = q.ListAPIEnvironments(ctx, a.ID); err != nil {
		return out, err
	}
	subs, err := q.ListSubscriptionsOfAPI(ctx, a.ID)
	for _, sb := range subs {
		out.Subscriptions = append(out.Subscriptions, subscriptionOf(queries.GetSubscriptionRow(sb)))
	}
	return out, err
}

// prepareAPI validates what create and replace share.
func prepareAPI(ctx context.Context, t *tx, in APIInput) (Policy, []queries.Environment, []string, error) {
	if err := names.ValidateDescription("description", in.Description); err != nil {
		return Policy{}, nil, nil, err
	}
	envs, err := publish.Environments(ctx, t.q, "environments", in.Environments)
	if err != nil {
		return Policy{}, nil, nil, err
	}
	types, err := parseAuthTypes("authTypes", in.AuthTypes)
	if err != nil {
		return Policy{}, nil, nil, err
	}
	pol, err := loadPolicy(ctx, t.q, t.Project, "policyTemplate", in.PolicyTemplate)
	return pol, envs, types, err
}

func setAPIEnvironments(ctx context.Context, q *queries.Queries, id int64, envs []queries.Environment) error {
	if err := q.DeleteAPIEnvironments(ctx, id); err != nil {
		return err
	}
	for _, e := range envs {
		if err := q.AddAPIEnvironment(ctx, queries.AddAPIEnvironmentParams{ApiID: id, EnvironmentID: e.ID}); err != nil {
			return err
		}
	}
	return nil
}

func joinTypes(types []string) string {
	out := ""
	for i, t := range types {
		if i > 0 {
			out += ","
		}
		out += t
	}
	return out
}

// CreateAPI adds an API to the catalog. KEY_SETS:MANAGE.
func (s *Service) CreateAPI(ctx context.Context, p access.Principal, project string, in APIInput) (API, error) {
	var out API
	err := s.run(ctx, write(p, project, "api.create", apiObject(in.Name), manage), func(ctx context.Context, t *tx) error {
		if err := names.ValidateItem("name", "API", in.Name); err != nil {
			return err
		}
		pol, envs, types, err := prepareAPI(ctx, t, in)
		if err != nil {
			return err
		}
		now := t.Now()
		row, err := t.q.CreateAPI(ctx, queries.CreateAPIParams{ProjectID: t.Project.ID, Name: in.Name, Description: in.Description,
			PolicyTemplateID: pol.ID, AuthTypes: joinTypes(types), CreatedAt: now, UpdatedAt: now})
		if isUnique(err) {
			return errs.FieldErrorf("name", "An API named %q already exists in project %q.", in.Name, project)
		} else if err != nil {
			return err
		}
		if err := setAPIEnvironments(ctx, t.q, row.ID, envs); err != nil {
			return err
		}
		a, err := loadAPI(ctx, t.q, t.Project, "", in.Name)
		if err != nil {
			return err
		}
		if out, err = describeAPI(ctx, t.q, a); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "api.create", apiObject(in.Name), "", "policy "+pol.Name+"; "+joinTypes(types))
	})
	return out, err
}

// UpdateAPI replaces an API's description, environments, authentication
// types and policy template. An environment or authentication type its
// subscriptions use cannot be taken away; a new policy applies to the key
// sets created from now on. KEY_SETS:MANAGE.
func (s *Service) UpdateAPI(ctx context.Context, p access.Principal, project, name string, in APIInput) (API, error) {
	var out API
	err := s.run(ctx, write(p, project, "api.update", apiObject(name), manage), func(ctx context.Context, t *tx) error {
		a, err := loadAPI(ctx, t.q, t.Project, "", name)
		if err != nil {
			return err
		}
		if in.Name != "" && in.Name != name {
			return errs.FieldErrorf("name", "An API is never renamed (this one is %q).", name)
		}
		pol, envs, types, err := prepareAPI(ctx, t, in)
		if err != nil {
			return err
		}
		subs, err := t.q.ListSubscriptionsOfAPI(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, sb := range subs {
			if !slices.ContainsFunc(envs, func(e queries.Environment) bool { return e.ID == sb.EnvironmentID }) {
				return errs.FieldErrorf("environments", "Application %q is subscribed to API %q in environment %q; unsubscribe it before taking the environment away.",
					sb.ApplicationName, name, sb.EnvironmentName)
			}
		}
		if len(subs) > 0 {
			for _, old := range splitAuthTypes(a.AuthTypes) {
				if !slices.Contains(types, old) {
					return errs.FieldErrorf("authTypes", "API %q has %d subscription(s) with %s key sets; unsubscribe them before taking %s away.", name, len(subs), old, old)
				}
			}
		}
		if err := t.q.UpdateAPI(ctx, queries.UpdateAPIParams{Description: in.Description, PolicyTemplateID: pol.ID, AuthTypes: joinTypes(types), UpdatedAt: t.Now(), ID: a.ID}); err != nil {
			return err
		}
		if err := setAPIEnvironments(ctx, t.q, a.ID, envs); err != nil {
			return err
		}
		if a, err = loadAPI(ctx, t.q, t.Project, "", name); err != nil {
			return err
		}
		if out, err = describeAPI(ctx, t.q, a); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "api.update", apiObject(name), "", "policy "+pol.Name+"; "+joinTypes(types))
	})
	return out, err
}

// DeleteAPI removes an API no application is subscribed to. KEY_SETS:MANAGE.
func (s *Service) DeleteAPI(ctx context.Context, p access.Principal, project, name string) error {
	return s.run(ctx, write(p, project, "api.delete", apiObject(name), manage), func(ctx context.Context, t *tx) error {
		a, err := loadAPI(ctx, t.q, t.Project, "", name)
		if err != nil {
			return err
		}
		subs, err := t.q.ListSubscriptionsOfAPI(ctx, a.ID)
		if err != nil {
			return err
		}
		if len(subs) > 0 {
			var apps []string
			for _, sb := range subs {
				apps = append(apps, sb.ApplicationName+" ("+sb.EnvironmentName+")")
			}
			return errs.Errorf(errs.Conflict, "API %q is in use by %d subscription(s): %s; unsubscribe them first.", name, len(subs), joinNames(apps))
		}
		if err := t.q.DeleteAPI(ctx, a.ID); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "api.delete", apiObject(name), "", "")
	})
}

// GetAPI returns a catalog entry with its subscriptions. KEY_SETS:VIEW.
func (s *Service) GetAPI(ctx context.Context, p access.Principal, project, name string) (API, error) {
	var out API
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		a, err := loadAPI(ctx, q, pr, "", name)
		if err != nil {
			return err
		}
		out, err = describeAPI(ctx, q, a)
		return err
	})
	return out, err
}

// ListAPIs lists the project's API catalog. KEY_SETS:VIEW.
func (s *Service) ListAPIs(ctx context.Context, p access.Principal, project string) ([]API, error) {
	out := []API{}
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		rows, err := q.ListAPIs(ctx, pr.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			a, err := describeAPI(ctx, q, queries.GetAPIRow(r))
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
