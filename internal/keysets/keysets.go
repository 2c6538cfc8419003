// Package keysets is the "Key Sets" area (seed 003): organizations and
// their groups own consumer applications; the API catalog lists APIs with
// their environments, authentication types and policy template; an
// application's subscription to an API in an environment gets or reuses a
// key set per authentication type; key sets hold a chain of keys (LATEST is
// the newest) and move through PENDING, ACTIVE, SUSPENDED, REVOKED and
// EXPIRED, by hand or on schedule, each step on the timeline and in the
// audit log. Gateways verify credentials against an in-memory index of
// their hashes (Verify), or offline from the bundle.
//
// Every write is one transaction through publish.Writer. A change to a key
// set is a deploy to its environment (the revision grows, so a gateway's
// bundle follows), and after the commit the verify index is patched from
// the database.
package keysets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/internal/seal"
	"github.com/keyward/keyward/queries"
)

// Key set (and key) statuses.
const (
	Pending   = "PENDING"
	Active    = "ACTIVE"
	Suspended = "SUSPENDED"
	Revoked   = "REVOKED"
	Expired   = "EXPIRED"
)

// Statuses lists the key set statuses in lifecycle order.
var Statuses = []string{Pending, Active, Suspended, Revoked, Expired}

// Authentication types.
const (
	APIKey            = "API_KEY"
	ClientCredentials = "CLIENT_CREDENTIALS"
)

// AuthTypes lists the authentication types in their fixed order.
var AuthTypes = []string{APIKey, ClientCredentials}

// typeKeySet is the area's item type: a key set is deployed to its
// environment.
const typeKeySet = deploy.ObjectKeySet

// Service manages the key sets area.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	clock  clock.Clock
	writer *publish.Writer
	sealer *seal.Sealer
	log    *slog.Logger
	index  *Index
}

// NewService returns the key sets Service. Call Start before serving.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, w *publish.Writer, s *seal.Sealer, log *slog.Logger) *Service {
	return &Service{db: d, audit: a, clock: c, writer: w, sealer: s, log: log, index: newIndex(c)}
}

// Start builds the verify index from the database and applies the
// scheduled events a stopped server missed (the catch-up).
func (s *Service) Start(ctx context.Context) error {
	if err := s.index.rebuild(ctx, s.db.Queries()); err != nil {
		return fmt.Errorf("key sets verify index: %w", err)
	}
	if _, err := s.RunDue(ctx); err != nil {
		s.log.Error("key set events at start", "error", err.Error())
	}
	return nil
}

// Close writes the last-used times still in memory.
func (s *Service) Close(ctx context.Context) error { return s.FlushLastUsed(ctx) }

// tx is a write under way: the queries of its transaction, the publish
// operation, and the key sets it changed (patched in the index after the
// commit).
type tx struct {
	*publish.Op
	q       *queries.Queries
	touched []int64
}

func (t *tx) touch(ids ...int64) { t.touched = append(t.touched, ids...) }

// run runs fn as one write of wr, then patches the index.
func (s *Service) run(ctx context.Context, wr publish.Write, fn func(ctx context.Context, t *tx) error) error {
	t := &tx{}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		t.q, t.Op = q, o
		return fn(ctx, t)
	})
	if err == nil {
		s.patch(ctx, t.touched)
	}
	return err
}

// runAs is run for the scheduler (no permission checked).
func (s *Service) runAs(ctx context.Context, wr publish.Write, fn func(ctx context.Context, t *tx) error) error {
	t := &tx{}
	err := s.writer.RunAs(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		t.q, t.Op = q, o
		return fn(ctx, t)
	})
	if err == nil {
		s.patch(ctx, t.touched)
	}
	return err
}

func (s *Service) patch(ctx context.Context, ids []int64) {
	if len(ids) == 0 {
		return
	}
	if err := s.index.reload(ctx, s.db.Queries(), ids); err != nil {
		// The write is committed; a full rebuild puts the index right.
		s.log.Error("patch key sets verify index", "error", err.Error())
		if err := s.index.rebuild(ctx, s.db.Queries()); err != nil {
			s.log.Error("rebuild key sets verify index", "error", err.Error())
		}
	}
}

// Permission sets of the area's writes.
var (
	manage = []access.Permission{access.KeySetsManage}
	// deployPerms: changes to what gateways verify (a key set's state, its
	// keys, its subscriptions) are deploys to its environment.
	deployPerms = []access.Permission{access.KeySetsManage, access.KeySetsDeploy}
)

func write(p access.Principal, project, action, object string, perms []access.Permission) publish.Write {
	return publish.Write{Principal: p, Project: project, Action: action, Object: object, Perms: perms}
}

// view runs fn in one read transaction after checking KEY_SETS:VIEW.
func (s *Service) view(ctx context.Context, p access.Principal, project string, fn func(q *queries.Queries, pr queries.Project) error) error {
	return s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		if err := access.Require(ctx, q, p, projects.Ref(pr), access.KeySetsView); err != nil {
			return err
		}
		return fn(q, pr)
	})
}

// notFound turns sql.ErrNoRows into a NotFound error (or a field error
// when field is set) saying what is missing.
func notFound(err error, field, format string, args ...any) error {
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if field != "" {
		return errs.FieldErrorf(field, format, args...)
	}
	return errs.Errorf(errs.NotFound, format, args...)
}

// isUnique reports a UNIQUE constraint failure.
func isUnique(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE") }

// stateConflict is the 409 of an action not allowed from a status.
func stateConflict(format string, args ...any) error {
	return errs.Errorf(errs.StateConflict, format, args...)
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

func nullInt(n int64, ok bool) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: ok} }

// joinNames lists names for a message: "a, b and c".
func joinNames(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	if len(quoted) > 1 {
		return strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
	}
	return strings.Join(quoted, "")
}

// parseAuthTypes validates a list of authentication types and returns it
// in fixed order, stored comma-separated.
func parseAuthTypes(field string, in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errs.FieldErrorf(field, "Choose at least one authentication type: %s.", strings.Join(AuthTypes, " or "))
	}
	seen := map[string]bool{}
	for i, t := range in {
		u := strings.ToUpper(strings.TrimSpace(t))
		if !slices.Contains(AuthTypes, u) {
			return nil, errs.FieldErrorf(fmt.Sprintf("%s[%d]", field, i), "%q is not an authentication type: use %s.", t, strings.Join(AuthTypes, " or "))
		}
		if seen[u] {
			return nil, errs.FieldErrorf(fmt.Sprintf("%s[%d]", field, i), "%s is listed twice.", u)
		}
		seen[u] = true
	}
	var out []string
	for _, t := range AuthTypes {
		if seen[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

func splitAuthTypes(stored string) []string {
	if stored == "" {
		return []string{}
	}
	return strings.Split(stored, ",")
}

// errNoRowsOr is err, or sql.ErrNoRows when err is nil (a row found that
// does not belong where it was asked for).
func errNoRowsOr(err error) error {
	if err == nil {
		return sql.ErrNoRows
	}
	return err
}
