package signing

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// PIN attempts: SoftHSM never locks a PIN, so Keyward limits them itself,
// per user and per token: after MaxPINFailures wrong PINs, PINLock.
const (
	MaxPINFailures = 5
	PINLock        = 15 * time.Minute
)

// DeleteKey deletes a signing key from the token and from Keyward, with
// the token's user PIN: a wrong PIN deletes nothing. The key's
// publications are withdrawn first (deploys). SIGNING_KEYS:MANAGE and
// SIGNING_KEYS:DEPLOY_UNDEPLOY; every attempt is audited.
func (s *Service) DeleteKey(ctx context.Context, p access.Principal, project, ckaID, pin string) (*publish.Result, error) {
	e := audit.For(p, "signing_key.delete")
	e.Project, e.Object = project, "signing-key/"+ckaID
	var key queries.SigningKey
	// Check who may try, and that the key exists, before the PIN.
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		if err := access.Require(ctx, q, p, projects.Ref(pr), access.SigningKeysManage, access.SigningKeysDeploy); err != nil {
			return err
		}
		if key, err = loadKey(ctx, q, pr, ckaID); err != nil {
			return err
		}
		if n, err := q.CountSignersUsingKey(ctx, key.ID); err != nil {
			return err
		} else if n > 0 {
			return errs.Errorf(errs.Conflict, "%d signer alias(es) sign with this key or rotate to or from it; rotate them to another key first.", n)
		}
		return nil
	})
	if err != nil {
		return nil, s.audit.Refuse(ctx, e, err)
	}
	if pin == "" {
		return nil, s.audit.Refuse(ctx, e, errs.FieldErrorf("pin", "Type the token's user PIN to delete the key."))
	}
	info, err := s.keys.Info(ctx)
	if err != nil {
		return nil, s.audit.Refuse(ctx, e, err)
	}
	if info.Backend == hsm.BackendSoft && !slices.Contains(info.PINFlags, hsm.PINInitialized) {
		// Nothing to check the PIN against yet: refuse without counting an attempt.
		return nil, s.audit.Refuse(ctx, e, errs.Errorf(errs.Conflict, "The built-in software token has no user PIN yet: an administrator sets it first (Administration → HSM)."))
	}
	subjects := []string{"pin-user:" + p.Username, "pin-token:" + info.Backend + "/" + info.Label}
	if err := s.pinLocked(ctx, subjects, info); err != nil {
		return nil, s.audit.Refuse(ctx, e, err)
	}
	id, err := hex.DecodeString(key.CkaID)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.CkaID, err)
	}
	if err := s.keys.Delete(ctx, hsm.DeleteRequest{ID: id, PIN: pin}); err != nil {
		if errs.FieldOf(err) == "pin" || errs.CodeOf(err) == errs.Forbidden {
			left, ferr := s.pinFailed(ctx, subjects)
			if ferr != nil {
				return nil, ferr
			}
			if left > 0 {
				err = errs.FieldErrorf("pin", "%s %d attempt(s) left before deleting keys locks for %d minutes.", errs.MessageOf(err), left, int(PINLock.Minutes()))
			} else {
				err = errs.FieldErrorf("pin", "%s Deleting keys is now locked for %d minutes.", errs.MessageOf(err), int(PINLock.Minutes()))
			}
		}
		return nil, s.audit.Refuse(ctx, e, hsmErr(err))
	}
	s.pinSucceeded(ctx, subjects)
	var result *publish.Result
	// The key is gone from the token: withdraw and forget it.
	wr := publish.Write{Principal: p, Project: project, Action: "signing_key.delete", Object: "signing-key/" + key.CkaID,
		Perms: []access.Permission{access.SigningKeysManage, access.SigningKeysDeploy}}
	err = s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		pubs, err := q.ListSigningKeyPublications(ctx, key.ID)
		if err != nil {
			return err
		}
		for _, pb := range pubs {
			env, err := q.GetEnvironmentByName(ctx, pb.EnvironmentName)
			if err != nil {
				return err
			}
			t := target(ctx, q, key, env, s.clock.Now())
			t.Detail = ""
			if err := o.Undeploy(ctx, q, t); err != nil {
				return err
			}
		}
		if err := q.DeleteSigningKey(ctx, key.ID); err != nil {
			return err
		}
		result = o.Result(typeSigningKey, deploy.Undeploy)
		return o.Record(ctx, q, "signing_key.delete", "signing-key/"+key.CkaID, "", fmt.Sprintf("label %q; the PIN was checked by the token", key.Label))
	})
	return result, err
}

// pinLocked refuses while any subject is locked, and when the token says
// its PIN is locked.
func (s *Service) pinLocked(ctx context.Context, subjects []string, info hsm.TokenInfo) error {
	for _, f := range info.PINFlags {
		if f == "USER_PIN_LOCKED" {
			return errs.Errorf(errs.Forbidden, "The token's user PIN is locked; unlock it with the token's security officer before deleting keys.")
		}
	}
	now := s.clock.Now()
	q := s.db.Queries()
	for _, subj := range subjects {
		t, err := q.GetLoginThrottle(ctx, subj)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return err
		}
		if t.LockedUntil.Valid && t.LockedUntil.Time.After(now) {
			return errs.Errorf(errs.TooMany, "Too many wrong PINs: deleting signing keys is locked until %s UTC.", t.LockedUntil.Time.Format("15:04"))
		}
	}
	return nil
}

// pinFailed counts a wrong PIN for every subject, locking at the limit,
// and returns how many attempts are left before the first lock.
func (s *Service) pinFailed(ctx context.Context, subjects []string) (int, error) {
	now := s.clock.Now()
	left := MaxPINFailures
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		for _, subj := range subjects {
			n := int64(1)
			if t, err := q.GetLoginThrottle(ctx, subj); err == nil && !(t.LockedUntil.Valid && !t.LockedUntil.Time.After(now)) {
				n = t.Failures + 1
			}
			left = min(left, MaxPINFailures-int(n))
			params := queries.UpsertLoginThrottleParams{Subject: subj, Failures: n, LastFailureAt: now}
			if n >= MaxPINFailures {
				params.LockedUntil = sql.NullTime{Time: now.Add(PINLock), Valid: true}
			}
			if err := q.UpsertLoginThrottle(ctx, params); err != nil {
				return err
			}
		}
		return nil
	})
	return max(left, 0), err
}

func (s *Service) pinSucceeded(ctx context.Context, subjects []string) {
	_ = s.db.InTx(ctx, func(q *queries.Queries) error {
		for _, subj := range subjects {
			if err := q.DeleteLoginThrottle(ctx, subj); err != nil {
				return err
			}
		}
		return nil
	})
}
