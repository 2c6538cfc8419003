// Package notify sends expiry alerts. A project has notification channels
// (a signed JSON webhook, signed as environment webhooks are, or a
// Slack-compatible incoming webhook) and rules: which object types, which
// thresholds in days before the end date, which channels. A scheduler in the
// server process (RunDue, every minute of the clock) finds the project's
// expiries (internal/expiry) that crossed a rule's threshold, records one
// alert per rule, object, end date and threshold (a UNIQUE key, so each is
// sent once, across restarts) and delivers it to each enabled channel,
// retrying failed deliveries with backoff and keeping every attempt.
//
// A rule matches the rows of its own project only: truststore CAs, gateway
// tokens and personal access tokens belong to no project and never match.
//
// Reading a project's channels, rules and deliveries takes any VIEW
// permission there (SECRETS, SIGNING_KEYS, KEY_SETS or AUDIT); changing them
// and sending a test take any MANAGE permission (SECRETS, SIGNING_KEYS or
// KEY_SETS); admins may do both everywhere.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/seal"
	"github.com/keyward/keyward/queries"
)

// Service manages channels and rules and sends the alerts.
type Service struct {
	db      *db.DB
	audit   *audit.Log
	clock   clock.Clock
	sealer  *seal.Sealer
	expiry  *expiry.Service
	baseURL string
	log     *slog.Logger
	client  *http.Client
	// Backoff is the wait before each retry of a failed delivery (on the
	// clock, checked at each run); len+1 attempts in all.
	Backoff []time.Duration
}

// DefaultBackoff retries a failed delivery after 1, 5 and 30 minutes, then
// gives up (four attempts in all).
var DefaultBackoff = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute}

// NewService returns the notify Service; baseURL makes the links in alerts
// absolute. Deliveries go through client (certfetch.Policy.HTTPClient: a
// channel's URL is a project member's choice, so it may not reach the
// server's loopback or metadata addresses); nil is a plain client. Each
// attempt times out after 10 seconds.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, s *seal.Sealer, e *expiry.Service, baseURL string, log *slog.Logger, client *http.Client) *Service {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Service{db: d, audit: a, clock: c, sealer: s, expiry: e, baseURL: strings.TrimSuffix(baseURL, "/"), log: log,
		client: client, Backoff: DefaultBackoff}
}

var (
	viewPerms   = []access.Permission{access.SecretsView, access.SigningKeysView, access.KeySetsView, access.AuditView}
	managePerms = []access.Permission{access.SecretsManage, access.SigningKeysManage, access.KeySetsManage}
)

// authorize loads the project when p may read (or, with manage, change)
// its notifications: a project p cannot see is NotFound.
func authorize(ctx context.Context, q *queries.Queries, p access.Principal, project string, manage bool) (queries.Project, error) {
	pr, err := projects.Visible(ctx, q, p, project)
	if err != nil {
		return pr, err
	}
	have, err := access.Permissions(ctx, q, p, pr.ID)
	if err != nil {
		return pr, err
	}
	need, what := viewPerms, "read"
	if manage {
		need, what = managePerms, "change"
	}
	for _, perm := range need {
		if have[perm] {
			return pr, nil
		}
	}
	return pr, errs.Errorf(errs.Forbidden, "You need one of the %s permissions in project %q to %s its notifications.",
		strings.Join(access.Strings(need), ", "), project, what)
}

// read runs fn in one read transaction once p may read project's notifications.
func (s *Service) read(ctx context.Context, p access.Principal, project string, fn func(q *queries.Queries, pr queries.Project) error) error {
	return s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := authorize(ctx, q, p, project, false)
		if err != nil {
			return err
		}
		return fn(q, pr)
	})
}

// write runs fn in one transaction once p may change project's
// notifications, and audits a refusal (fn appends the success entry).
func (s *Service) write(ctx context.Context, p access.Principal, project, action, object string, fn func(q *queries.Queries, pr queries.Project) error) error {
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		pr, err := authorize(ctx, q, p, project, true)
		if err != nil {
			return err
		}
		return fn(q, pr)
	})
	if err != nil {
		e := audit.For(p, action)
		e.Project, e.Object = project, object
		return s.audit.Refuse(ctx, e, err)
	}
	return nil
}

// entry is the audit entry of a change in project.
func entry(p access.Principal, action, project, object, detail string) audit.Entry {
	e := audit.For(p, action)
	e.Project, e.Object, e.Detail = project, object, detail
	return e
}

func channelObject(name string) string { return "notification_channel/" + name }
func ruleObject(name string) string    { return "notification_rule/" + name }

// days formats a number of days for messages.
func days(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d day", n)
	}
	return fmt.Sprintf("%d days", n)
}

func itoa(n int64) string { return fmt.Sprint(n) }

// CanManage reports whether a principal holding perms in a project (an
// admin holds them all) may change its notifications: pages offer the forms
// only then.
func CanManage(perms access.Set) bool {
	for _, p := range managePerms {
		if perms[p] {
			return true
		}
	}
	return false
}

// CanView reports whether perms let a member read a project's notifications.
func CanView(perms access.Set) bool {
	for _, p := range viewPerms {
		if perms[p] {
			return true
		}
	}
	return false
}
