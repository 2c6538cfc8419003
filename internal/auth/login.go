package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/queries"
)

// ErrBadCredentials is the one message for an unknown user, a wrong password
// and a disabled account, so sign-in reveals nothing about which it was.
var ErrBadCredentials = errs.Errorf(errs.Unauthorized, "Invalid username or password.")

// Login checks a username and password from addr and, when they match,
// starts a session. It returns the new session id (for the cookie only; the
// database keeps its hash). Repeated failures for a user or an address first
// make each next attempt wait, then lock sign-in for Policy.LockFor.
func (s *Service) Login(ctx context.Context, username, password, addr string) (string, access.Principal, error) {
	p := access.Principal{Username: username, Via: "web", SourceAddr: addr}
	// Usernames match case-insensitively, so the user lock must too.
	userSubject := "user:" + strings.ToLower(username)
	subjects := []string{userSubject, "addr:" + addr}
	if err := s.checkThrottle(ctx, subjects); err != nil {
		return "", p, s.recordRefusal(ctx, p, "auth.login", "user/"+username, err)
	}
	q := s.db.Queries()
	u, err := q.GetUserByUsername(ctx, username)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		CheckPassword(dummyHash, password)
		return "", p, s.loginFailed(ctx, p, subjects, "unknown user")
	case err != nil:
		return "", p, fmt.Errorf("login: %w", err)
	case !CheckPassword(u.PasswordHash, password):
		return "", p, s.loginFailed(ctx, p, subjects, "wrong password")
	case u.Disabled:
		return "", p, s.loginFailed(ctx, p, subjects, "account disabled")
	}
	p = access.Principal{UserID: u.ID, Username: u.Username, Admin: u.IsAdmin, Via: "web", SourceAddr: addr}
	sid := randtoken.New(32)
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(q *queries.Queries) error {
		if err := q.DeleteLoginThrottle(ctx, userSubject); err != nil {
			return err
		}
		if err := q.CreateWebSession(ctx, queries.CreateWebSessionParams{IDHash: randtoken.Hash(sid), UserID: u.ID, CreatedAt: now, LastSeenAt: now, SourceAddr: addr}); err != nil {
			return err
		}
		e := audit.For(p, "auth.login")
		e.Object = "user/" + u.Username
		return s.audit.Append(ctx, q, e)
	})
	if err != nil {
		return "", p, fmt.Errorf("login: %w", err)
	}
	return sid, p, nil
}

// checkThrottle refuses an attempt while any subject is locked or must wait.
func (s *Service) checkThrottle(ctx context.Context, subjects []string) error {
	now := s.clock.Now()
	q := s.db.Queries()
	for _, subj := range subjects {
		t, err := q.GetLoginThrottle(ctx, subj)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check login throttle: %w", err)
		}
		if t.LockedUntil.Valid && now.Before(t.LockedUntil.Time) {
			return errs.Errorf(errs.TooMany, "Sign-in is locked after repeated failed attempts. Try again in %s.", roundUp(t.LockedUntil.Time.Sub(now)))
		}
		if wait := s.slowdown(int(t.Failures)); wait > 0 && now.Before(t.LastFailureAt.Add(wait)) {
			return errs.Errorf(errs.TooMany, "Too many failed sign-in attempts. Wait %s before trying again.", roundUp(t.LastFailureAt.Add(wait).Sub(now)))
		}
	}
	return nil
}

// slowdown is the wait imposed after n failures: none before SlowAfter, then
// 2s, 4s, 8s... up to one minute.
func (s *Service) slowdown(n int) time.Duration {
	if n < s.policy.SlowAfter {
		return 0
	}
	d := time.Duration(math.Pow(2, float64(n-s.policy.SlowAfter+1))) * time.Second
	return min(d, time.Minute)
}

// loginFailed counts a failure against each subject and audits it.
func (s *Service) loginFailed(ctx context.Context, p access.Principal, subjects []string, why string) error {
	now := s.clock.Now()
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		for _, subj := range subjects {
			t, err := q.GetLoginThrottle(ctx, subj)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			// Failures older than a lock period are forgotten.
			if err == nil && now.Sub(t.LastFailureAt) > s.policy.LockFor {
				t.Failures = 0
			}
			t.Failures++
			limit := s.policy.UserLockAfter
			if subj[:5] == "addr:" {
				limit = s.policy.AddrLockAfter
			}
			locked := sql.NullTime{}
			if int(t.Failures) >= limit {
				locked = sql.NullTime{Time: now.Add(s.policy.LockFor), Valid: true}
			}
			if err := q.UpsertLoginThrottle(ctx, queries.UpsertLoginThrottleParams{Subject: subj, Failures: t.Failures, LastFailureAt: now, LockedUntil: locked}); err != nil {
				return err
			}
		}
		e := audit.For(p, "auth.login")
		e.Object = "user/" + p.Username
		e.Outcome = audit.Denied
		e.Detail = why
		return s.audit.Append(ctx, q, e)
	})
	if err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return ErrBadCredentials
}

// roundUp rounds a wait up to whole seconds, or whole minutes past a minute.
func roundUp(d time.Duration) time.Duration {
	unit := time.Second
	if d > time.Minute {
		unit = time.Minute
	}
	return (d + unit - 1).Truncate(unit)
}

// Session resolves a session id to its principal. It ends (and reports as
// Unauthorized) a session that is idle too long or past its maximum age, or
// whose user was disabled. The last-seen time is written at most once a
// minute.
func (s *Service) Session(ctx context.Context, sid, addr string) (access.Principal, error) {
	none := access.Principal{SourceAddr: addr}
	if sid == "" {
		return none, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	h := randtoken.Hash(sid)
	q := s.db.Queries()
	row, err := q.GetWebSession(ctx, h)
	if errors.Is(err, sql.ErrNoRows) {
		return none, errs.Errorf(errs.Unauthorized, "Your session has ended. Please sign in again.")
	}
	if err != nil {
		return none, fmt.Errorf("load session: %w", err)
	}
	now := s.clock.Now()
	if row.Disabled || now.Sub(row.LastSeenAt) > s.policy.SessionIdle || now.Sub(row.CreatedAt) > s.policy.SessionMaxAge {
		if err := s.db.InTx(ctx, func(q *queries.Queries) error { return q.DeleteWebSession(ctx, h) }); err != nil {
			return none, fmt.Errorf("end session: %w", err)
		}
		return none, errs.Errorf(errs.Unauthorized, "Your session has expired. Please sign in again.")
	}
	if now.Sub(row.LastSeenAt) > time.Minute {
		if err := s.db.InTx(ctx, func(q *queries.Queries) error {
			return q.TouchWebSession(ctx, queries.TouchWebSessionParams{LastSeenAt: now, IDHash: h})
		}); err != nil {
			return none, fmt.Errorf("touch session: %w", err)
		}
	}
	return access.Principal{UserID: row.UserID, Username: row.Username, Admin: row.IsAdmin, Via: "web", SourceAddr: addr}, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, p access.Principal, sid string) error {
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		if err := q.DeleteWebSession(ctx, randtoken.Hash(sid)); err != nil {
			return err
		}
		e := audit.For(p, "auth.logout")
		e.Object = "user/" + p.Username
		return s.audit.Append(ctx, q, e)
	})
}

// ChangeOwnPassword lets a signed-in user change their password, checking
// the current one. Other sessions of the user end.
func (s *Service) ChangeOwnPassword(ctx context.Context, p access.Principal, sid, current, next string) error {
	if !p.Authenticated() {
		return errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		u, err := q.GetUserByID(ctx, p.UserID)
		if err != nil {
			return err
		}
		if !CheckPassword(u.PasswordHash, current) {
			return errs.FieldErrorf("current_password", "The current password is not correct.")
		}
		if err := ValidatePassword(next); err != nil {
			return err
		}
		hash, err := HashPassword(next)
		if err != nil {
			return err
		}
		if err := q.SetUserPassword(ctx, queries.SetUserPasswordParams{PasswordHash: hash, UpdatedAt: s.clock.Now(), ID: u.ID}); err != nil {
			return err
		}
		if err := q.DeleteOtherWebSessions(ctx, queries.DeleteOtherWebSessionsParams{UserID: u.ID, IDHash: randtoken.Hash(sid)}); err != nil {
			return err
		}
		e := audit.For(p, "user.password.change")
		e.Object = "user/" + u.Username
		return s.audit.Append(ctx, q, e)
	})
}
