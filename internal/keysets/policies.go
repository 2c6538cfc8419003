package keysets

// Policy templates: how the key sets of an API live (expiration, rotation,
// manual regeneration, grace period, activation).

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// PolicyInput is a policy template to create or replace. Durations are
// text as ParseDuration reads them; "" is none.
type PolicyInput struct {
	Name               string
	Description        string
	Expiration         string
	Rotation           string
	ManualRegeneration bool
	GracePeriod        string
	ActivationRequired bool
}

// Policy is a policy template's rules, as the services apply them.
type Policy struct {
	queries.PolicyTemplate
}

// Expiration is how long a key lives, and whether it expires at all.
func (p Policy) Expiration() (time.Duration, bool) { return seconds(p.ExpirationSeconds) }

// Rotation is how often a key is replaced, and whether it is at all.
func (p Policy) Rotation() (time.Duration, bool) { return seconds(p.RotationSeconds) }

// GracePeriod is how long a replaced key still verifies (0: none).
func (p Policy) GracePeriod() time.Duration { d, _ := seconds(p.GracePeriodSeconds); return d }

func seconds(n sql.NullInt64) (time.Duration, bool) {
	return time.Duration(n.Int64) * time.Second, n.Valid
}

func policyObject(name string) string { return "policy_template/" + name }

// parsePolicy validates the input: positive durations, a rotation no
// longer than the expiration, a grace period shorter than the rotation.
func parsePolicy(in PolicyInput) (exp, rot, grace sql.NullInt64, err error) {
	if err = names.ValidateDescription("description", in.Description); err != nil {
		return
	}
	e, eok, err := ParseDuration("expiration", in.Expiration)
	if err != nil {
		return
	}
	r, rok, err := ParseDuration("rotation", in.Rotation)
	if err != nil {
		return
	}
	g, gok, err := ParseDuration("gracePeriod", in.GracePeriod)
	if err != nil {
		return
	}
	if eok && rok && r > e {
		err = errs.FieldErrorf("rotation", "The rotation (every %s) is longer than the expiration (%s): keys would expire before they rotate. Shorten the rotation, or set no expiration.",
			FormatDuration(int64(r/time.Second)), FormatDuration(int64(e/time.Second)))
		return
	}
	if gok && rok && g >= r {
		err = errs.FieldErrorf("gracePeriod", "The grace period (%s) must be shorter than the rotation (every %s).", FormatDuration(int64(g/time.Second)), FormatDuration(int64(r/time.Second)))
		return
	}
	if gok && eok && g >= e {
		err = errs.FieldErrorf("gracePeriod", "The grace period (%s) must be shorter than the expiration (%s).", FormatDuration(int64(g/time.Second)), FormatDuration(int64(e/time.Second)))
		return
	}
	mk := func(d time.Duration, ok bool) sql.NullInt64 {
		return sql.NullInt64{Int64: int64(d / time.Second), Valid: ok}
	}
	return mk(e, eok), mk(r, rok), mk(g, gok), nil
}

func loadPolicy(ctx context.Context, q *queries.Queries, pr queries.Project, field, name string) (Policy, error) {
	if name == "" && field != "" {
		return Policy{}, errs.FieldErrorf(field, "Choose the policy template: it is required.")
	}
	p, err := q.GetPolicyTemplate(ctx, queries.GetPolicyTemplateParams{ProjectID: pr.ID, Name: name})
	return Policy{p}, notFound(err, field, "Policy template %q does not exist in project %q.", name, pr.Name)
}

// CreatePolicy creates a policy template. KEY_SETS:MANAGE.
func (s *Service) CreatePolicy(ctx context.Context, p access.Principal, project string, in PolicyInput) (Policy, error) {
	var out Policy
	err := s.run(ctx, write(p, project, "policy_template.create", policyObject(in.Name), manage), func(ctx context.Context, t *tx) error {
		if err := names.ValidateItem("name", "Policy template", in.Name); err != nil {
			return err
		}
		exp, rot, grace, err := parsePolicy(in)
		if err != nil {
			return err
		}
		now := t.Now()
		row, err := t.q.CreatePolicyTemplate(ctx, queries.CreatePolicyTemplateParams{ProjectID: t.Project.ID, Name: in.Name, Description: in.Description,
			ExpirationSeconds: exp, RotationSeconds: rot, ManualRegeneration: in.ManualRegeneration, GracePeriodSeconds: grace,
			ActivationRequired: in.ActivationRequired, CreatedAt: now, UpdatedAt: now})
		if isUnique(err) {
			return errs.FieldErrorf("name", "A policy template named %q already exists in project %q.", in.Name, project)
		} else if err != nil {
			return err
		}
		out = Policy{row}
		return t.Record(ctx, t.q, "policy_template.create", policyObject(in.Name), "", out.Summary())
	})
	return out, err
}

// UpdatePolicy replaces a policy template's rules (not its name). Keys
// issued from now on follow them; events already scheduled keep their
// dates. KEY_SETS:MANAGE.
func (s *Service) UpdatePolicy(ctx context.Context, p access.Principal, project, name string, in PolicyInput) (Policy, error) {
	var out Policy
	err := s.run(ctx, write(p, project, "policy_template.update", policyObject(name), manage), func(ctx context.Context, t *tx) error {
		pol, err := loadPolicy(ctx, t.q, t.Project, "", name)
		if err != nil {
			return err
		}
		if in.Name != "" && in.Name != name {
			return errs.FieldErrorf("name", "A policy template is never renamed (this one is %q).", name)
		}
		exp, rot, grace, err := parsePolicy(in)
		if err != nil {
			return err
		}
		now := t.Now()
		if err := t.q.UpdatePolicyTemplate(ctx, queries.UpdatePolicyTemplateParams{Description: in.Description, ExpirationSeconds: exp, RotationSeconds: rot,
			ManualRegeneration: in.ManualRegeneration, GracePeriodSeconds: grace, ActivationRequired: in.ActivationRequired, UpdatedAt: now, ID: pol.ID}); err != nil {
			return err
		}
		row, err := t.q.GetPolicyTemplateByID(ctx, pol.ID)
		if err != nil {
			return err
		}
		out = Policy{row}
		return t.Record(ctx, t.q, "policy_template.update", policyObject(name), "", out.Summary())
	})
	return out, err
}

// DeletePolicy deletes a policy template no API and no key set uses.
// KEY_SETS:MANAGE.
func (s *Service) DeletePolicy(ctx context.Context, p access.Principal, project, name string) error {
	return s.run(ctx, write(p, project, "policy_template.delete", policyObject(name), manage), func(ctx context.Context, t *tx) error {
		pol, err := loadPolicy(ctx, t.q, t.Project, "", name)
		if err != nil {
			return err
		}
		apis, err := t.q.ListAPINamesUsingPolicy(ctx, pol.ID)
		if err != nil {
			return err
		}
		if len(apis) > 0 {
			return errs.Errorf(errs.Conflict, "Policy template %q is in use by API(s) %s; assign them another policy first.", name, joinNames(apis))
		}
		n, err := t.q.CountKeySetsUsingPolicy(ctx, pol.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.Errorf(errs.Conflict, "Policy template %q is in use by %d key set(s); it stays while they exist.", name, n)
		}
		if err := t.q.DeletePolicyTemplate(ctx, pol.ID); err != nil {
			return err
		}
		return t.Record(ctx, t.q, "policy_template.delete", policyObject(name), "", "")
	})
}

// GetPolicy returns a policy template. KEY_SETS:VIEW.
func (s *Service) GetPolicy(ctx context.Context, p access.Principal, project, name string) (Policy, error) {
	var out Policy
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		var err error
		out, err = loadPolicy(ctx, q, pr, "", name)
		return err
	})
	return out, err
}

// ListPolicies lists a project's policy templates. KEY_SETS:VIEW.
func (s *Service) ListPolicies(ctx context.Context, p access.Principal, project string) ([]Policy, error) {
	out := []Policy{}
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		rows, err := q.ListPolicyTemplates(ctx, pr.ID)
		for _, r := range rows {
			out = append(out, Policy{r})
		}
		return err
	})
	return out, err
}

// Summary describes the rules in one line, for the audit log and pages.
func (p Policy) Summary() string {
	f := func(n sql.NullInt64) string {
		if !n.Valid {
			return "none"
		}
		return FormatDuration(n.Int64)
	}
	return fmt.Sprintf("expiration %s, rotation %s, manual regeneration %t, grace period %s, activation required %t",
		f(p.ExpirationSeconds), f(p.RotationSeconds), p.ManualRegeneration, f(p.GracePeriodSeconds), p.ActivationRequired)
}
