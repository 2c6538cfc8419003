package keysets

// The scheduler: automatic rotation and expiration. Due events are read
// through the key_set_events_due index; each is applied in its own
// transaction that first checks it is still SCHEDULED and still applies
// (the key set's status, its LATEST key), so a restart or a second run
// never applies it twice. The actual time is recorded beside the scheduled
// one.

import (
	"context"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/queries"
)

var scheduler = access.Principal{Username: "scheduler", Via: "scheduler"}

// dueBatch is how many due events RunDue reads at a time.
const dueBatch = 500

// RunDue applies every event whose time has come, and returns how many it
// applied: at start (catching up on what a stopped server missed) and on
// the scheduler's tick.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	applied := 0
	for {
		due, err := s.db.Queries().ListDueKeySetEvents(ctx, queries.ListDueKeySetEventsParams{ScheduledAt: nullTime(s.clock.Now()), Limit: dueBatch})
		if err != nil {
			return applied, fmt.Errorf("due key set events: %w", err)
		}
		if len(due) == 0 {
			return applied, nil
		}
		for _, ev := range due {
			ok, err := s.apply(ctx, ev)
			if err != nil {
				return applied, fmt.Errorf("key set event %d (%s): %w", ev.ID, ev.Type, err)
			}
			if ok {
				applied++
			}
		}
	}
}

// Schedule runs due events every minute of the clock until ctx ends.
func (s *Service) Schedule(ctx context.Context, log func(error)) {
	for s.clock.Sleep(ctx, time.Minute) {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			log(err)
		}
	}
}

// FlushInterval is how often last-used times are written.
const FlushInterval = 5 * time.Second

// FlushEvery writes the last-used times every FlushInterval of the clock
// until ctx ends.
func (s *Service) FlushEvery(ctx context.Context, log func(error)) {
	for s.clock.Sleep(ctx, FlushInterval) {
		if err := s.FlushLastUsed(ctx); err != nil && ctx.Err() == nil {
			log(err)
		}
	}
}

// apply applies one due event, or cancels it when it no longer applies.
func (s *Service) apply(ctx context.Context, ev queries.KeySetEvent) (bool, error) {
	q := s.db.Queries()
	ks, err := q.GetKeySetByID(ctx, ev.KeySetID)
	if err != nil {
		return false, err
	}
	pr, err := q.GetProjectByID(ctx, ks.ProjectID)
	if err != nil {
		return false, err
	}
	verb := map[string]string{EventRotation: "rotate", EventExpiration: "expire"}[ev.Type]
	applied := false
	err = s.runAs(ctx, write(scheduler, pr.Name, "key_set."+verb, keySetObject(ks.Name), nil), func(ctx context.Context, t *tx) error {
		cur, err := t.q.GetKeySetEvent(ctx, ev.ID)
		if err != nil || cur.State != StateScheduled {
			return err // applied or cancelled by another run
		}
		ks, err := t.q.GetKeySetByID(ctx, ev.KeySetID)
		if err != nil {
			return err
		}
		latest, err := t.q.GetLatestKeySetKey(ctx, ks.ID)
		if err != nil {
			return err
		}
		now := t.Now()
		if (ks.Status != Active && ks.Status != Suspended) || latest.Seq != cur.KeySeq {
			return finish(ctx, t, cur, StateCancelled, now, fmt.Sprintf("%s; no longer applies: the key set is %s, key #%d is LATEST", cur.Detail, ks.Status, latest.Seq))
		}
		if cur.Type == EventExpiration {
			// Rotation wins over an expiration due the same day.
			rot, found, err := rotationSameDay(ctx, t.q, cur)
			if err != nil {
				return err
			}
			if found {
				cur = rot
			}
		}
		if err := finish(ctx, t, cur, StateDone, now, cur.Detail+late(cur.ScheduledAt.Time, now)); err != nil {
			return err
		}
		applied = true
		if cur.Type == EventExpiration {
			return s.transition(ctx, t, ks, Expired, false, "", "")
		}
		pol, err := t.q.GetPolicyTemplateByID(ctx, ks.PolicyTemplateID)
		if err != nil {
			return err
		}
		_, err = s.replaceKey(ctx, t, ks, Policy{pol}, latest, EventRotation)
		return err
	})
	return applied, err
}

func rotationSameDay(ctx context.Context, q *queries.Queries, exp queries.KeySetEvent) (queries.KeySetEvent, bool, error) {
	evs, err := q.ListScheduledKeySetEvents(ctx, exp.KeySetID)
	if err != nil {
		return exp, false, err
	}
	for _, e := range evs {
		if e.Type == EventRotation && e.KeySeq == exp.KeySeq && sameDay(e.ScheduledAt.Time, exp.ScheduledAt.Time) {
			return e, true, nil
		}
	}
	return exp, false, nil
}

func finish(ctx context.Context, t *tx, ev queries.KeySetEvent, state string, at time.Time, detail string) error {
	_, err := t.q.FinishKeySetEvent(ctx, queries.FinishKeySetEventParams{State: state, ActualAt: nullTime(at), Actor: t.Principal.Username, Detail: detail, ID: ev.ID})
	return err
}

// late says how late a scheduled event ran, when it was.
func late(due, at time.Time) string {
	d := at.Sub(due).Round(time.Second)
	if d < time.Second {
		return ""
	}
	return fmt.Sprintf(" (ran %s late)", d)
}
