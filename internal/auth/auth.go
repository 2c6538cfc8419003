// Package auth owns users, passwords, browser sessions, login throttling,
// the first-admin setup link and Personal API Access Tokens.
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Policy holds the timeouts and limits of authentication.
type Policy struct {
	SessionIdle     time.Duration // a session unused this long ends
	SessionMaxAge   time.Duration // a session ends this long after sign-in, used or not
	UserLockAfter   int           // failed sign-ins for one user before it locks
	AddrLockAfter   int           // failed sign-ins from one address before it locks
	LockFor         time.Duration // how long a lock lasts
	SlowAfter       int           // failures after which each attempt must wait
	MaxTokenExpiry  time.Duration // longest allowed API token lifetime
	TokenTouchEvery time.Duration // last_used_at is written at most this often
}

// DefaultPolicy is what the server uses unless configured otherwise.
var DefaultPolicy = Policy{
	SessionIdle:     30 * time.Minute,
	SessionMaxAge:   12 * time.Hour,
	UserLockAfter:   5,
	AddrLockAfter:   20,
	LockFor:         15 * time.Minute,
	SlowAfter:       3,
	MaxTokenExpiry:  366 * 24 * time.Hour,
	TokenTouchEvery: time.Minute,
}

// Service implements authentication and user administration.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	clock  clock.Clock
	policy Policy
	// tokens caches token rows by hash until the next write (db.Memo).
	tokens *db.Memo[string, queries.GetAPITokenByHashRow]
}

// NewService returns an auth Service.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, p Policy) *Service {
	return &Service{db: d, audit: a, clock: c, policy: p, tokens: db.NewMemo[string, queries.GetAPITokenByHashRow](d, time.Second, 10000)}
}

// Policy returns the service's policy (the web layer needs the timeouts).
func (s *Service) Policy() Policy { return s.policy }

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,63}$`)

// ValidateUsername checks a new username.
func ValidateUsername(name string) error {
	if !usernameRE.MatchString(name) {
		return errs.FieldErrorf("username", "Username must be 2 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.")
	}
	return nil
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// ValidatePassword checks a new password.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return errs.FieldErrorf("password", "Password must be at least %d characters long.", MinPasswordLength)
	}
	if len(pw) > 1024 {
		return errs.FieldErrorf("password", "Password must be at most 1024 bytes long.")
	}
	return nil
}

// recordRefusal audits an operation that was refused, in its own
// transaction.
func (s *Service) recordRefusal(ctx context.Context, p access.Principal, action, object string, cause error) error {
	e := audit.For(p, action)
	e.Object = object
	return s.audit.Refuse(ctx, e, cause)
}

// userByName loads a user or returns a NotFound error naming it.
func userByName(ctx context.Context, q *queries.Queries, username string) (queries.User, error) {
	u, err := q.GetUserByUsername(ctx, username)
	if errors.Is(err, sql.ErrNoRows) {
		return u, errs.Errorf(errs.NotFound, "User %q does not exist.", username)
	}
	if err != nil {
		return u, fmt.Errorf("load user %q: %w", username, err)
	}
	return u, nil
}
