// Package dashboard is the home page's read model: for the projects a user
// can see, what ends soon, the last deployments, the webhook and
// notification deliveries that failed, and what each project holds.
package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/queries"
)

// Dashboard is one user's home page.
type Dashboard struct {
	Counts      expiry.Counts
	Soon        []expiry.Item // what ends in the next 30 days (and what already ended), soonest first
	SoonTotal   int64
	Deployments []Deployment
	Failures    []Failure
	Projects    []projects.Areas
}

// Deployment is one recent deployment.
type Deployment struct {
	At                   time.Time
	Environment, Project string
	Action, Object       string
	Actor                string
	Success              bool
	Message              string
	Webhook              string
}

// Failure is a webhook or notification delivery that failed.
type Failure struct {
	At          time.Time
	Kind        string // "environment webhook" or "notification"
	Project     string
	Environment string
	What        string // the deployment or the alert
	Error       string
	Link        string
}

// Service builds dashboards.
type Service struct {
	db       *db.DB
	projects *projects.Service
	expiry   *expiry.Service
}

// NewService returns the dashboard Service.
func NewService(d *db.DB, p *projects.Service, e *expiry.Service) *Service {
	return &Service{db: d, projects: p, expiry: e}
}

// Shown bounds each list of the dashboard.
const Shown = 10

// For returns p's dashboard.
func (s *Service) For(ctx context.Context, p access.Principal) (Dashboard, error) {
	var out Dashboard
	if !p.Authenticated() {
		return out, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	var err error
	if out.Counts, err = s.expiry.Count(ctx, p); err != nil {
		return out, err
	}
	soon, err := s.expiry.List(ctx, p, expiry.Filter{Within: 30 * 24 * time.Hour, Size: Shown})
	if err != nil {
		return out, err
	}
	out.Soon, out.SoonTotal = soon.Items, soon.Total
	prs, err := s.projects.List(ctx, p)
	if err != nil {
		return out, err
	}
	names := make([]any, 0, len(prs))
	ids := make([]any, 0, len(prs))
	// List checked what p may see; the counts are read in one transaction.
	err = s.db.View(ctx, func(q *queries.Queries) error {
		for _, pr := range prs {
			a, err := projects.CountAreas(ctx, q, pr)
			if err != nil {
				return err
			}
			out.Projects = append(out.Projects, a)
			names, ids = append(names, pr.Name), append(ids, pr.ID)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if out.Deployments, err = s.deployments(ctx, names); err != nil {
		return out, err
	}
	if out.Failures, err = s.failures(ctx, names, ids); err != nil {
		return out, err
	}
	return out, nil
}

// in is "(?, ?, …)" for n values; "(NULL)" for none, which matches nothing.
func in(n int) string {
	if n == 0 {
		return "(NULL)"
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// deployments are the last deployments of the projects named (and those of
// no project: the truststores, which every user can read).
func (s *Service) deployments(ctx context.Context, projects []any) ([]Deployment, error) {
	rows, err := s.db.Read.QueryContext(ctx, "SELECT d.created_at, e.name, d.project, d.action, d.object_type || ' ' || d.object_name, d.actor, d.success, d.message, d.webhook_status "+
		"FROM deployments d JOIN environments e ON e.id = d.environment_id WHERE d.project = '' OR d.project IN "+in(len(projects))+
		" ORDER BY d.id DESC LIMIT ?", append(projects, Shown)...)
	if err != nil {
		return nil, fmt.Errorf("dashboard deployments: %w", err)
	}
	defer rows.Close()
	out := []Deployment{}
	for rows.Next() {
		var d Deployment
		if err := rows.Scan(&d.At, &d.Environment, &d.Project, &d.Action, &d.Object, &d.Actor, &d.Success, &d.Message, &d.Webhook); err != nil {
			return nil, fmt.Errorf("dashboard deployments: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// failures are the last failed environment webhooks (of deployments of the
// projects named) and notification deliveries (of the projects with ids).
func (s *Service) failures(ctx context.Context, projects, ids []any) ([]Failure, error) {
	q, args := failuresSQL(projects, ids)
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard failures: %w", err)
	}
	defer rows.Close()
	out := []Failure{}
	for rows.Next() {
		var f Failure
		var at sql.NullString
		if err := rows.Scan(&at, &f.Kind, &f.Project, &f.Environment, &f.What, &f.Error, &f.Link); err != nil {
			return nil, fmt.Errorf("dashboard failures: %w", err)
		}
		f.At, _ = time.Parse("2006-01-02 15:04:05.999999999-07:00", at.String)
		out = append(out, f)
	}
	return out, rows.Err()
}

// failuresSQL is failures' query and its arguments.
func failuresSQL(projects, ids []any) (string, []any) {
	q := "SELECT at, kind, project, environment, what, error, link FROM (" +
		"SELECT d.created_at AS at, 'environment webhook' AS kind, d.project AS project, e.name AS environment, " +
		"d.action || ' ' || d.object_type || ' ' || d.object_name || ' (revision ' || d.revision || ')' AS what, d.webhook_status AS error, " +
		"'/environments/' || e.name AS link, d.id AS n " +
		"FROM deployments d JOIN environments e ON e.id = d.environment_id " +
		"WHERE d.webhook_status LIKE 'failed%' AND (d.project = '' OR d.project IN " + in(len(projects)) + ") " +
		"UNION ALL SELECT nd.created_at, 'notification', p.name, nd.environment, " +
		"CASE WHEN nd.rule_name = '' THEN 'test send to ' || nd.channel_name ELSE nd.rule_name || ': ' || nd.object_type || ' ' || nd.object_name || ' to ' || nd.channel_name END, " +
		"CASE WHEN nd.status_code > 0 THEN 'HTTP ' || nd.status_code || ' ' ELSE '' END || nd.error, " +
		"'/projects/' || p.name || '/notifications', nd.id " +
		"FROM notification_deliveries nd JOIN projects p ON p.id = nd.project_id " +
		"WHERE nd.status = 'failed' AND nd.project_id IN " + in(len(ids)) +
		") ORDER BY at DESC, n DESC LIMIT ?"
	return q, append(append(append([]any{}, projects...), ids...), Shown)
}
