package keysets

// The lifecycle of a key set: Activate, Suspend, Revoke and Regenerate by
// hand, each one transaction that records the step on the timeline, in the
// audit log, and deploys the key set to its environment.

import (
	"context"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// Action names.
const (
	ActionActivate   = "activate"
	ActionSuspend    = "suspend"
	ActionRevoke     = "revoke"
	ActionRegenerate = "regenerate"
)

// Action is one lifecycle action and whether it applies now; Reason says
// why not, for a disabled button's title.
type Action struct {
	Name    string
	Allowed bool
	Reason  string
}

// Actions lists the lifecycle actions of a key set in status, under pol,
// owned by an application in appStatus: what the details page offers (it
// also checks the user may manage key sets).
func Actions(status string, pol Policy, appStatus string) []Action {
	out := make([]Action, 0, 4)
	for _, name := range []string{ActionActivate, ActionSuspend, ActionRegenerate, ActionRevoke} {
		err := allowed(name, status, pol, appStatus)
		a := Action{Name: name, Allowed: err == nil}
		if err != nil {
			a.Reason = errs.MessageOf(err)
		}
		out = append(out, a)
	}
	return out
}

// allowed says whether action applies from status: nil, or the 409 to
// answer.
func allowed(action, status string, pol Policy, appStatus string) error {
	switch action {
	case ActionActivate:
		if status != Pending && status != Suspended {
			return stateConflict("The key set is %s: only a PENDING or SUSPENDED key set can be activated.", status)
		}
		if appStatus == AppSuspended {
			return stateConflict("Its application is SUSPENDED: reactivate the application first.")
		}
	case ActionSuspend:
		if status != Active {
			return stateConflict("The key set is %s: only an ACTIVE key set can be suspended.", status)
		}
	case ActionRevoke:
		if status != Active && status != Suspended {
			return stateConflict("The key set is %s: only an ACTIVE or SUSPENDED key set can be revoked.", status)
		}
	case ActionRegenerate:
		if status != Active && status != Suspended {
			return stateConflict("The key set is %s: only an ACTIVE or SUSPENDED key set can be regenerated.", status)
		}
		if !pol.ManualRegeneration {
			return stateConflict("Policy template %q does not allow manual regeneration.", pol.Name)
		}
	}
	return nil
}

func keySetObject(name string) string { return typeKeySet.Object(name) }

// loadKeySet loads a project's key set by name.
func loadKeySet(ctx context.Context, q *queries.Queries, pr queries.Project, name string) (queries.KeySet, error) {
	ks, err := q.GetKeySet(ctx, queries.GetKeySetParams{ProjectID: pr.ID, Name: name})
	return ks, notFound(err, "", "Key set %q does not exist in project %q.", name, pr.Name)
}

// target is the key set's publication in its environment.
func (s *Service) target(ctx context.Context, t *tx, ks queries.KeySet) (publish.Target, error) {
	env, err := t.q.GetEnvironmentByID(ctx, ks.EnvironmentID)
	if err != nil {
		return publish.Target{}, err
	}
	return publish.Target{Type: typeKeySet, Name: ks.Name, Env: env, Mark: func(rev int64) error {
		return t.q.SetKeySetDeployedRevision(ctx, queries.SetKeySetDeployedRevisionParams{DeployedRevision: rev, ID: ks.ID})
	}}, nil
}

// deploy publishes the key set's current state to its environment.
func (s *Service) deploy(ctx context.Context, t *tx, ks queries.KeySet, detail string) error {
	tg, err := s.target(ctx, t, ks)
	if err != nil {
		return err
	}
	tg.Detail = detail
	t.touch(ks.ID)
	return t.Deploy(ctx, t.q, tg)
}

func (s *Service) undeploy(ctx context.Context, t *tx, ks queries.KeySet) error {
	tg, err := s.target(ctx, t, ks)
	if err != nil {
		return err
	}
	t.touch(ks.ID)
	return t.Undeploy(ctx, t.q, tg)
}

// transition moves ks (and its LATEST key) to status to: the timeline
// event, the deploy, the audit entry. byApp marks a suspension made by the
// application's.
func (s *Service) transition(ctx context.Context, t *tx, ks queries.KeySet, to string, byApp bool, event, detail string) error {
	now, from := t.Now(), ks.Status
	if err := t.q.SetKeySetStatus(ctx, queries.SetKeySetStatusParams{Status: to, SuspendedByApplication: byApp, UpdatedAt: now, ID: ks.ID}); err != nil {
		return err
	}
	latest, err := t.q.GetLatestKeySetKey(ctx, ks.ID)
	if err != nil {
		return err
	}
	switch to {
	case Expired:
		if err := t.q.SetKeySetKeyStatus(ctx, queries.SetKeySetKeyStatusParams{Status: Expired, ID: latest.ID}); err != nil {
			return err
		}
		if err := t.q.CancelKeySetEvents(ctx, queries.CancelKeySetEventsParams{Detail: "cancelled: the key set expired", KeySetID: ks.ID}); err != nil {
			return err
		}
	case Revoked:
		if err := t.q.RevokeKeySetKeys(ctx, queries.RevokeKeySetKeysParams{At: nullTime(now), KeySetID: ks.ID}); err != nil {
			return err
		}
		if err := t.q.CancelKeySetEvents(ctx, queries.CancelKeySetEventsParams{Detail: "cancelled: the key set was revoked", KeySetID: ks.ID}); err != nil {
			return err
		}
	default:
		var activated time.Time
		if to == Active {
			activated = now
		}
		if err := t.q.SetKeySetKeyStatus(ctx, queries.SetKeySetKeyStatusParams{Status: to, ActivatedAt: nullTime(activated), ID: latest.ID}); err != nil {
			return err
		}
	}
	if from == Pending && to == Active {
		// The policy's clocks start when the key set is provisioned.
		pol, err := t.q.GetPolicyTemplateByID(ctx, ks.PolicyTemplateID)
		if err != nil {
			return err
		}
		if _, err := s.startTimers(ctx, t, ks, Policy{pol}, latest); err != nil {
			return err
		}
		event = EventProvisioned
	}
	if event != "" {
		if err := s.event(ctx, t, ks.ID, latest.Seq, event, detail); err != nil {
			return err
		}
	}
	ks.Status = to
	if err := s.deploy(ctx, t, ks, "status "+to); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s → %s", from, to)
	if detail != "" {
		msg += " (" + detail + ")"
	}
	env, _ := t.q.GetEnvironmentByID(ctx, ks.EnvironmentID)
	return t.Record(ctx, t.q, "key_set."+map[string]string{Active: ActionActivate, Suspended: ActionSuspend, Revoked: ActionRevoke, Expired: "expire"}[to],
		keySetObject(ks.Name), env.Name, msg)
}

// act runs one hand-made lifecycle action on a project's key set.
func (s *Service) act(ctx context.Context, p access.Principal, project, name, action string, fn func(ctx context.Context, t *tx, ks queries.KeySet, pol Policy) error) (Details, error) {
	err := s.run(ctx, write(p, project, "key_set."+action, keySetObject(name), deployPerms), func(ctx context.Context, t *tx) error {
		ks, err := loadKeySet(ctx, t.q, t.Project, name)
		if err != nil {
			return err
		}
		pol, err := t.q.GetPolicyTemplateByID(ctx, ks.PolicyTemplateID)
		if err != nil {
			return err
		}
		app, err := t.q.GetApplicationByID(ctx, ks.ApplicationID)
		if err != nil {
			return err
		}
		if err := allowed(action, ks.Status, Policy{pol}, app.Status); err != nil {
			return err
		}
		return fn(ctx, t, ks, Policy{pol})
	})
	if err != nil {
		return Details{}, err
	}
	return s.Get(ctx, p, project, name)
}

// Activate activates a PENDING key set (its policy's clocks start) or
// reactivates a SUSPENDED one. KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) Activate(ctx context.Context, p access.Principal, project, name string) (Details, error) {
	return s.act(ctx, p, project, name, ActionActivate, func(ctx context.Context, t *tx, ks queries.KeySet, _ Policy) error {
		return s.transition(ctx, t, ks, Active, false, EventActivated, "")
	})
}

// Suspend suspends an ACTIVE key set: calls with its keys fail until it is
// activated again. KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) Suspend(ctx context.Context, p access.Principal, project, name string) (Details, error) {
	return s.act(ctx, p, project, name, ActionSuspend, func(ctx context.Context, t *tx, ks queries.KeySet, _ Policy) error {
		return s.transition(ctx, t, ks, Suspended, false, EventSuspended, "")
	})
}

// Revoke revokes an ACTIVE or SUSPENDED key set for good; confirm must be
// its name, typed. KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY.
func (s *Service) Revoke(ctx context.Context, p access.Principal, project, name, confirm string) (Details, error) {
	return s.act(ctx, p, project, name, ActionRevoke, func(ctx context.Context, t *tx, ks queries.KeySet, _ Policy) error {
		if confirm != ks.Name {
			return errs.FieldErrorf("confirm", "Type the key set's name, %q, to confirm its revocation: it cannot be undone.", ks.Name)
		}
		return s.transition(ctx, t, ks, Revoked, false, EventRevoked, "")
	})
}

// Regenerate replaces the LATEST key by a new one, when the policy allows
// it: the previous key is revoked (once the grace period has passed, if
// the policy has one), the new key takes the previous one's state. keySeq,
// when not 0, names the key the caller means: it must be LATEST.
// KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY. The new values are answered
// once.
func (s *Service) Regenerate(ctx context.Context, p access.Principal, project, name string, keySeq int64) (Details, Credentials, error) {
	var creds Credentials
	d, err := s.act(ctx, p, project, name, ActionRegenerate, func(ctx context.Context, t *tx, ks queries.KeySet, pol Policy) error {
		latest, err := t.q.GetLatestKeySetKey(ctx, ks.ID)
		if err != nil {
			return err
		}
		if keySeq != 0 && keySeq != latest.Seq {
			return stateConflict("Key #%d is not LATEST (key #%d is): only the LATEST key can be regenerated.", keySeq, latest.Seq)
		}
		creds, err = s.replaceKey(ctx, t, ks, pol, latest, EventRegenerated)
		return err
	})
	return d, creds, err
}

// replaceKey issues the next key of ks in the state of the previous one,
// which is retired: it stops verifying at once, or at the end of the
// policy's grace period. Its scheduled events are cancelled.
func (s *Service) replaceKey(ctx context.Context, t *tx, ks queries.KeySet, pol Policy, old queries.KeySetKey, event string) (Credentials, error) {
	now := t.Now()
	grace := pol.GracePeriod()
	end := now.Add(grace)
	var graceUntil time.Time
	if grace > 0 {
		graceUntil = end
	}
	if err := t.q.RetireKeySetKey(ctx, queries.RetireKeySetKeyParams{RotatedAt: nullTime(now), RevokedAt: nullTime(end), GraceUntil: nullTime(graceUntil), ID: old.ID}); err != nil {
		return Credentials{}, err
	}
	why := map[string]string{EventRegenerated: "regenerated", EventRotation: "rotated"}[event]
	if err := t.q.CancelKeySetEvents(ctx, queries.CancelKeySetEventsParams{Detail: fmt.Sprintf("cancelled: key #%d was %s", old.Seq, why), KeySetID: ks.ID, KeySeq: old.Seq}); err != nil {
		return Credentials{}, err
	}
	status := old.Status
	if status != Suspended {
		status = Active
	}
	creds, k, err := s.issueKey(ctx, t, ks, pol, old.Seq+1, status)
	if err != nil {
		return creds, err
	}
	cur, err := t.q.GetKeySetByID(ctx, ks.ID)
	if err != nil {
		return creds, err
	}
	if err := t.q.SetKeySetSchedule(ctx, queries.SetKeySetScheduleParams{ExpiresAt: cur.ExpiresAt, NextRotationAt: cur.NextRotationAt,
		LastRotatedAt: nullTime(now), UpdatedAt: now, ID: ks.ID}); err != nil {
		return creds, err
	}
	retired := fmt.Sprintf("key #%d revoked", old.Seq)
	if grace > 0 {
		retired = fmt.Sprintf("key #%d verifies until %s (grace period %s), then is revoked", old.Seq, end.Format(time.RFC3339), FormatDuration(int64(grace/time.Second)))
	}
	if err := s.event(ctx, t, ks.ID, old.Seq, EventKeyRetired, retired); err != nil {
		return creds, err
	}
	if event == EventRegenerated {
		if err := s.event(ctx, t, ks.ID, k.Seq, EventRegenerated, fmt.Sprintf("key #%d issued (%s)", k.Seq, k.Status)); err != nil {
			return creds, err
		}
	}
	env, err := t.q.GetEnvironmentByID(ctx, ks.EnvironmentID)
	if err != nil {
		return creds, err
	}
	if err := s.deploy(ctx, t, ks, fmt.Sprintf("key #%d", k.Seq)); err != nil {
		return creds, err
	}
	return creds, t.Record(ctx, t.q, "key_set."+map[string]string{EventRegenerated: ActionRegenerate, EventRotation: "rotate"}[event], keySetObject(ks.Name), env.Name,
		fmt.Sprintf("key #%d (%s) replaces key #%d; %s", k.Seq, k.Display, old.Seq, retired))
}
