package keysets

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/queries"
)

// Key is one key of a key set's chain, as pages show it: never a value,
// only its prefix and last four characters (Display).
type Key struct {
	Seq         int64
	Latest      bool
	Display     string
	Status      string
	CreatedAt   time.Time
	ActivatedAt *time.Time
	RotatedAt   *time.Time
	ExpiresAt   *time.Time
	RevokedAt   *time.Time
	GraceUntil  *time.Time
	LastUsedAt  *time.Time
}

// Event is one milestone of the timeline: done, scheduled or cancelled.
// Delay is how late a scheduled event ran (actual minus scheduled).
type Event struct {
	Type        string
	State       string
	KeySeq      int64
	ScheduledAt *time.Time
	ActualAt    *time.Time
	Delay       time.Duration
	Actor       string
	Detail      string
}

// Details is the key set details read model: everything its page shows,
// read in one transaction.
type Details struct {
	queries.KeySet
	Application    Application
	Environment    string
	Policy         Policy
	Keys           []Key // newest (LATEST) first
	Timeline       []Event
	AuthorizedAPIs []string // the APIs its subscriptions give, that run in its environment with its authentication type
	Subscriptions  []Subscription
	Actions        []Action
}

func ptr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

func keyOf(k queries.KeySetKey, latest bool) Key {
	return Key{Seq: k.Seq, Latest: latest, Display: k.Display, Status: k.Status, CreatedAt: k.CreatedAt, ActivatedAt: ptr(k.ActivatedAt),
		RotatedAt: ptr(k.RotatedAt), ExpiresAt: ptr(k.ExpiresAt), RevokedAt: ptr(k.RevokedAt), GraceUntil: ptr(k.GraceUntil), LastUsedAt: ptr(k.LastUsedAt)}
}

func eventOf(e queries.KeySetEvent) Event {
	out := Event{Type: e.Type, State: e.State, KeySeq: e.KeySeq, ScheduledAt: ptr(e.ScheduledAt), ActualAt: ptr(e.ActualAt), Actor: e.Actor, Detail: e.Detail}
	if e.ScheduledAt.Valid && e.ActualAt.Valid {
		out.Delay = e.ActualAt.Time.Sub(e.ScheduledAt.Time)
	}
	return out
}

func describeKeySet(ctx context.Context, q *queries.Queries, ks queries.KeySet) (Details, error) {
	d := Details{KeySet: ks, Keys: []Key{}, Timeline: []Event{}, Subscriptions: []Subscription{}}
	app, err := q.GetApplicationByID(ctx, ks.ApplicationID)
	if err != nil {
		return d, err
	}
	d.Application = Application(app)
	env, err := q.GetEnvironmentByID(ctx, ks.EnvironmentID)
	if err != nil {
		return d, err
	}
	d.Environment = env.Name
	pol, err := q.GetPolicyTemplateByID(ctx, ks.PolicyTemplateID)
	if err != nil {
		return d, err
	}
	d.Policy = Policy{pol}
	keys, err := q.ListKeySetKeys(ctx, ks.ID)
	if err != nil {
		return d, err
	}
	for i, k := range keys {
		d.Keys = append(d.Keys, keyOf(k, i == 0))
	}
	events, err := q.ListKeySetEvents(ctx, ks.ID)
	if err != nil {
		return d, err
	}
	for _, e := range events {
		d.Timeline = append(d.Timeline, eventOf(e))
	}
	if d.AuthorizedAPIs, err = q.ListAuthorizedAPIs(ctx, queries.ListAuthorizedAPIsParams{KeySetID: ks.ID, AuthType: ks.AuthType}); err != nil {
		return d, err
	}
	subs, err := q.ListSubscriptionsOfKeySet(ctx, ks.ID)
	if err != nil {
		return d, err
	}
	for _, sb := range subs {
		d.Subscriptions = append(d.Subscriptions, subscriptionOf(queries.GetSubscriptionRow(sb)))
	}
	d.Actions = Actions(ks.Status, d.Policy, d.Application.Status)
	return d, nil
}

// Get returns a key set's details. KEY_SETS:VIEW.
func (s *Service) Get(ctx context.Context, p access.Principal, project, name string) (Details, error) {
	var out Details
	err := s.view(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		ks, err := loadKeySet(ctx, q, pr, name)
		if err != nil {
			return err
		}
		out, err = describeKeySet(ctx, q, ks)
		return err
	})
	return out, err
}
