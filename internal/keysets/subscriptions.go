package keysets

// Subscriptions: an application subscribes to an API in an environment
// and gets, for each of the API's authentication types, a key set: one it
// already has when it is still valid and under the same policy, or a new
// one.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// Subscription is an application's subscription to an API in an
// environment.
type Subscription struct {
	ID          int64
	Application string
	API         string
	Environment string
	CreatedBy   string
	CreatedAt   time.Time
	KeySets     []string // the key sets it uses
}

func subscriptionOf(r queries.GetSubscriptionRow) Subscription {
	return Subscription{ID: r.ID, Application: r.ApplicationName, API: r.ApiName, Environment: r.EnvironmentName, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, KeySets: []string{}}
}

// SubscribeInput is what to subscribe to.
type SubscribeInput struct {
	API         string
	Environment string
}

// SubscribedKeySet is one key set a subscription got: Credentials are set
// only when it was created (reused ones keep their values, shown by
// RetrieveCredentials).
type SubscribedKeySet struct {
	Name        string
	AuthType    string
	Status      string
	Reused      bool
	Credentials *Credentials
}

// SubscribeResult is a new subscription and its key sets.
type SubscribeResult struct {
	Subscription Subscription
	KeySets      []SubscribedKeySet
}

func subscriptionObject(app, api, env string) string {
	return "subscription/" + app + "/" + api + "/" + env
}

// Subscribe subscribes application to an API in an environment. For each
// of the API's authentication types a key set of the application in that
// environment, of that type and under the API's policy, still valid (not
// revoked nor expired), is reused; otherwise one is created, named
// "{authType}-{application}" (with a suffix when taken), PENDING when the
// policy requires activation, ACTIVE otherwise. KEY_SETS:MANAGE and
// KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) Subscribe(ctx context.Context, p access.Principal, project, application string, in SubscribeInput) (SubscribeResult, error) {
	var out SubscribeResult
	obj := subscriptionObject(application, in.API, in.Environment)
	err := s.run(ctx, write(p, project, "subscription.create", obj, deployPerms), func(ctx context.Context, t *tx) error {
		app, err := loadApp(ctx, t.q, t.Project, application)
		if err != nil {
			return err
		}
		api, err := loadAPI(ctx, t.q, t.Project, "api", in.API)
		if err != nil {
			return err
		}
		envs, err := publish.Environments(ctx, t.q, "environment", []string{in.Environment})
		if err != nil {
			return errs.FieldErrorf("environment", "%s", errs.MessageOf(err))
		}
		env := envs[0]
		runsIn, err := t.q.ListAPIEnvironments(ctx, api.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(runsIn, env.Name) {
			return errs.FieldErrorf("environment", "API %q does not run in environment %q; it runs in %s.", api.Name, env.Name, joinNames(runsIn))
		}
		if app.Status == AppSuspended {
			return stateConflict("Application %q is SUSPENDED: reactivate it before subscribing.", app.Name)
		}
		if id, err := t.q.FindSubscription(ctx, queries.FindSubscriptionParams{ApplicationID: app.ID, ApiID: api.ID, EnvironmentID: env.ID}); err == nil {
			return errs.Errorf(errs.Conflict, "Application %q is already subscribed to API %q in environment %q (subscription %d).", app.Name, api.Name, env.Name, id)
		}
		pol, err := t.q.GetPolicyTemplateByID(ctx, api.PolicyTemplateID)
		if err != nil {
			return err
		}
		sub, err := t.q.CreateSubscription(ctx, queries.CreateSubscriptionParams{ProjectID: t.Project.ID, ApplicationID: app.ID, ApiID: api.ID,
			EnvironmentID: env.ID, CreatedBy: p.Username, CreatedAt: t.Now()})
		if err != nil {
			return err
		}
		out.Subscription = Subscription{ID: sub.ID, Application: app.Name, API: api.Name, Environment: env.Name, CreatedBy: sub.CreatedBy,
			CreatedAt: sub.CreatedAt, KeySets: []string{}}
		var said []string
		for _, authType := range splitAuthTypes(api.AuthTypes) {
			ks, creds, reused, err := s.keySetFor(ctx, t, app, env, authType, Policy{pol})
			if err != nil {
				return err
			}
			if err := t.q.LinkKeySetSubscription(ctx, queries.LinkKeySetSubscriptionParams{KeySetID: ks.ID, SubscriptionID: sub.ID}); err != nil {
				return err
			}
			if reused {
				// Its authorized APIs grow: the gateway's bundle follows.
				if err := s.deploy(ctx, t, ks, "subscribed to "+api.Name); err != nil {
					return err
				}
			}
			out.KeySets = append(out.KeySets, SubscribedKeySet{Name: ks.Name, AuthType: authType, Status: ks.Status, Reused: reused, Credentials: creds})
			out.Subscription.KeySets = append(out.Subscription.KeySets, ks.Name)
			verb := "created"
			if reused {
				verb = "reused"
			}
			said = append(said, fmt.Sprintf("%s %s", verb, ks.Name))
		}
		return t.Record(ctx, t.q, "subscription.create", obj, env.Name, strings.Join(said, "; "))
	})
	return out, err
}

// keySetFor finds the key set to reuse, or creates one.
func (s *Service) keySetFor(ctx context.Context, t *tx, app Application, env queries.Environment, authType string, pol Policy) (queries.KeySet, *Credentials, bool, error) {
	found, err := t.q.FindReusableKeySets(ctx, queries.FindReusableKeySetsParams{ApplicationID: app.ID, EnvironmentID: env.ID, AuthType: authType, PolicyTemplateID: pol.ID})
	if err != nil {
		return queries.KeySet{}, nil, false, err
	}
	now := t.Now()
	for _, ks := range found {
		// An expiry the scheduler has not applied yet still counts.
		if ks.ExpiresAt.Valid && !ks.ExpiresAt.Time.After(now) {
			continue
		}
		return ks, nil, true, nil
	}
	name, err := freeName(ctx, t.q, t.Project.ID, authType+"-"+app.Name)
	if err != nil {
		return queries.KeySet{}, nil, false, err
	}
	status := Active
	if pol.ActivationRequired {
		status = Pending
	}
	ks, err := t.q.CreateKeySet(ctx, queries.CreateKeySetParams{ProjectID: t.Project.ID, Name: name, ApplicationID: app.ID, EnvironmentID: env.ID,
		AuthType: authType, PolicyTemplateID: pol.ID, Status: status, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return ks, nil, false, err
	}
	creds, k, err := s.issueKey(ctx, t, ks, pol, 1, status)
	if err != nil {
		return ks, nil, false, err
	}
	if err := s.event(ctx, t, ks.ID, 1, EventCreated, fmt.Sprintf("%s key set for application %q in %q, policy %q; key #1 %s", authType, app.Name, env.Name, pol.Name, k.Display)); err != nil {
		return ks, nil, false, err
	}
	if status == Active {
		if err := s.event(ctx, t, ks.ID, 1, EventProvisioned, "active at once (the policy requires no activation)"); err != nil {
			return ks, nil, false, err
		}
	}
	if err := s.deploy(ctx, t, ks, "created, "+status); err != nil {
		return ks, nil, false, err
	}
	if err := t.Record(ctx, t.q, "key_set.create", keySetObject(name), env.Name, fmt.Sprintf("%s, %s, key #1 %s", authType, status, k.Display)); err != nil {
		return ks, nil, false, err
	}
	return ks, &creds, false, nil
}

// freeName is base, or base-2, base-3, … when taken, within the name rules'
// 64 characters.
func freeName(ctx context.Context, q *queries.Queries, projectID int64, base string) (string, error) {
	if len(base) > 64 {
		base = base[:64]
	}
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			suffix := fmt.Sprintf("-%d", i)
			name = base[:min(len(base), 64-len(suffix))] + suffix
		}
		n, err := q.KeySetNameTaken(ctx, queries.KeySetNameTakenParams{ProjectID: projectID, Name: name})
		if err != nil || n == 0 {
			return name, err
		}
	}
}

// Unsubscribe removes a subscription. Its key sets lose the API; one that
// no other subscription uses is revoked (it is kept, with its timeline).
// KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) Unsubscribe(ctx context.Context, p access.Principal, project, application string, id int64) error {
	obj := fmt.Sprintf("subscription/%s/%d", application, id)
	return s.run(ctx, write(p, project, "subscription.delete", obj, deployPerms), func(ctx context.Context, t *tx) error {
		app, err := loadApp(ctx, t.q, t.Project, application)
		if err != nil {
			return err
		}
		sub, err := t.q.GetSubscription(ctx, queries.GetSubscriptionParams{ID: id, ProjectID: t.Project.ID})
		if err != nil || sub.ApplicationID != app.ID {
			return notFound(errNoRowsOr(err), "", "Application %q has no subscription %d.", application, id)
		}
		ids, err := t.q.ListKeySetIDsOfSubscription(ctx, sub.ID)
		if err != nil {
			return err
		}
		if err := t.q.DeleteSubscription(ctx, sub.ID); err != nil {
			return err
		}
		for _, ksID := range ids {
			ks, err := t.q.GetKeySetByID(ctx, ksID)
			if err != nil {
				return err
			}
			n, err := t.q.CountSubscriptionsOfKeySet(ctx, ksID)
			if err != nil {
				return err
			}
			if n == 0 && (ks.Status != Revoked && ks.Status != Expired) {
				err = s.transition(ctx, t, ks, Revoked, false, EventRevoked, "its last subscription ("+sub.ApiName+") was removed")
			} else {
				err = s.deploy(ctx, t, ks, "unsubscribed from "+sub.ApiName)
			}
			if err != nil {
				return err
			}
		}
		return t.Record(ctx, t.q, "subscription.delete", subscriptionObject(application, sub.ApiName, sub.EnvironmentName), sub.EnvironmentName, "")
	})
}

// ListSubscriptions lists an application's subscriptions. KEY_SETS:VIEW.
func (s *Service) ListSubscriptions(ctx context.Context, p access.Principal, project, application string) ([]Subscription, error) {
	out := []Subscription{}
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		app, err := loadApp(ctx, q, pr, application)
		if err != nil {
			return err
		}
		rows, err := q.ListSubscriptionsOfApplication(ctx, app.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			sb, err := withKeySets(ctx, q, subscriptionOf(queries.GetSubscriptionRow(r)))
			if err != nil {
				return err
			}
			out = append(out, sb)
		}
		return nil
	})
	return out, err
}

// GetSubscription returns one subscription of an application. KEY_SETS:VIEW.
func (s *Service) GetSubscription(ctx context.Context, p access.Principal, project, application string, id int64) (Subscription, error) {
	var out Subscription
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		app, err := loadApp(ctx, q, pr, application)
		if err != nil {
			return err
		}
		r, err := q.GetSubscription(ctx, queries.GetSubscriptionParams{ID: id, ProjectID: pr.ID})
		if err != nil || r.ApplicationID != app.ID {
			return notFound(errNoRowsOr(err), "", "Application %q has no subscription %d.", application, id)
		}
		out, err = withKeySets(ctx, q, subscriptionOf(r))
		return err
	})
	return out, err
}

func withKeySets(ctx context.Context, q *queries.Queries, sb Subscription) (Subscription, error) {
	ids, err := q.ListKeySetIDsOfSubscription(ctx, sb.ID)
	if err != nil {
		return sb, err
	}
	for _, id := range ids {
		ks, err := q.GetKeySetByID(ctx, id)
		if err != nil {
			return sb, err
		}
		sb.KeySets = append(sb.KeySets, ks.Name)
	}
	return sb, nil
}
