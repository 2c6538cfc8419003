package keysets

// The key set list (the seed's Workspace > Keys): server-side filters and
// paging. Like the audit log's, its query is built from the filters given,
// so that each adds a condition an index of schema.sql serves, rather than
// sqlc's "(? = '' OR col = ?)" terms, which SQLite cannot use an index for.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/queries"
)

// Filter selects key sets. Empty fields match everything; a To time is
// exclusive.
type Filter struct {
	Status       string
	AuthType     string
	API          string
	Environment  string
	Organization string
	Group        string
	Application  string // exact name
	Search       string // in the key set's or the application's name
	ExpiresFrom  time.Time
	ExpiresTo    time.Time
	CreatedFrom  time.Time
	CreatedTo    time.Time
	RotatedFrom  time.Time
	RotatedTo    time.Time
	Page         int // from 1
	Size         int
}

// MaxPageSize bounds Filter.Size.
const MaxPageSize = 200

// ListItem is one row of the list.
type ListItem struct {
	Name           string
	Status         string
	AuthType       string
	Environment    string
	Application    string
	Organization   string
	Group          string
	Policy         string
	LatestKey      string // its Display
	CreatedAt      time.Time
	ExpiresAt      *time.Time
	NextRotationAt *time.Time
	LastRotatedAt  *time.Time
}

// Page is one page of the list, newest first.
type Page struct {
	Items      []ListItem
	Total      int64
	Page, Size int
}

// where builds the conditions; names are resolved to ids first, so that an
// unknown one is a clear error.
func (f Filter) where(ctx context.Context, q *queries.Queries, pr queries.Project) (conds []string, args []any, needApp bool, err error) {
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	add("ks.project_id = ?", pr.ID)
	if f.Status != "" {
		st := strings.ToUpper(f.Status)
		if !slices.Contains(Statuses, st) {
			return nil, nil, false, errs.FieldErrorf("status", "%q is not a status: use one of %s.", f.Status, strings.Join(Statuses, ", "))
		}
		add("ks.status = ?", st)
	}
	if f.AuthType != "" {
		at := strings.ToUpper(f.AuthType)
		if !slices.Contains(AuthTypes, at) {
			return nil, nil, false, errs.FieldErrorf("authType", "%q is not an authentication type: use %s.", f.AuthType, strings.Join(AuthTypes, " or "))
		}
		add("ks.auth_type = ?", at)
	}
	if f.Environment != "" {
		env, err := q.GetEnvironmentByName(ctx, f.Environment)
		if err != nil {
			return nil, nil, false, notFound(err, "environment", "Environment %q does not exist.", f.Environment)
		}
		add("ks.environment_id = ?", env.ID)
	}
	if f.API != "" {
		a, err := loadAPI(ctx, q, pr, "api", f.API)
		if err != nil {
			return nil, nil, false, err
		}
		add("ks.id IN (SELECT kss.key_set_id FROM key_set_subscriptions kss JOIN subscriptions sb ON sb.id = kss.subscription_id WHERE sb.api_id = ?)", a.ID)
	}
	if f.Application != "" {
		a, err := q.GetApplication(ctx, queries.GetApplicationParams{ProjectID: pr.ID, Name: f.Application})
		if err != nil {
			return nil, nil, false, notFound(err, "application", "Application %q does not exist in project %q.", f.Application, pr.Name)
		}
		add("ks.application_id = ?", a.ID)
	}
	var orgID int64
	if f.Organization != "" {
		o, err := loadOrg(ctx, q, pr, "organization", f.Organization)
		if err != nil {
			return nil, nil, false, err
		}
		orgID = o.ID
		add("ks.application_id IN (SELECT id FROM applications WHERE organization_id = ?)", o.ID)
	}
	if f.Group != "" {
		if orgID != 0 {
			g, err := q.GetOrganizationGroup(ctx, queries.GetOrganizationGroupParams{OrganizationID: orgID, Name: f.Group})
			if err != nil {
				return nil, nil, false, notFound(err, "group", "Organization %q has no group %q.", f.Organization, f.Group)
			}
			add("ks.application_id IN (SELECT id FROM applications WHERE group_id = ?)", g.ID)
		} else {
			add("ks.application_id IN (SELECT a.id FROM applications a JOIN organization_groups g ON g.id = a.group_id WHERE a.project_id = ? AND g.name = ?)", pr.ID, f.Group)
		}
	}
	for _, r := range []struct {
		col, field string
		from, to   time.Time
	}{{"ks.expires_at", "expires", f.ExpiresFrom, f.ExpiresTo}, {"ks.created_at", "created", f.CreatedFrom, f.CreatedTo}, {"ks.last_rotated_at", "rotated", f.RotatedFrom, f.RotatedTo}} {
		if !r.from.IsZero() && !r.to.IsZero() && !r.to.After(r.from) {
			return nil, nil, false, errs.FieldErrorf(r.field+"To", "%sTo must be after %sFrom.", r.field, r.field)
		}
		if !r.from.IsZero() {
			add(r.col+" >= ?", r.from.UTC())
		}
		if !r.to.IsZero() {
			add(r.col+" < ?", r.to.UTC())
		}
	}
	if s := strings.ToLower(strings.TrimSpace(f.Search)); utf8.RuneCountInString(s) >= 3 {
		// The trigram index (key_set_search) finds substrings of three
		// characters or more without reading every key set.
		add("ks.id IN (SELECT rowid FROM key_set_search WHERE key_set_search MATCH ?)", `"`+strings.ReplaceAll(s, `"`, `""`)+`"`)
	} else if s != "" {
		add("(instr(lower(ks.name), ?) > 0 OR instr(lower(app.name), ?) > 0)", s, s)
		needApp = true
	}
	// Free text alone: the trigram matches drive the query, so the project
	// condition must not (the unary + keeps its index out), or SQLite walks
	// every key set of the project to test each against the matches.
	if !f.narrowed() && utf8.RuneCountInString(strings.TrimSpace(f.Search)) >= 3 {
		conds[0] = "+ks.project_id = ?"
	}
	return conds, args, needApp, nil
}

// narrowed reports whether a filter names applications of the project (an
// organization, a group, an API): its key sets are then in the project
// already, and counting them needs no project condition, which lets SQLite
// count from the covering indexes of the named applications or
// subscriptions instead of walking every key set of the project.
func (f Filter) narrowed() bool { return f.API != "" || f.Organization != "" || f.Group != "" }

// List returns one page of a project's key sets, newest first. KEY_SETS:VIEW.
func (s *Service) List(ctx context.Context, p access.Principal, project string, f Filter) (Page, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	if f.Size < 1 || f.Size > MaxPageSize {
		f.Size = 50
	}
	out := Page{Items: []ListItem{}, Page: f.Page, Size: f.Size}
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, fmt.Errorf("begin read transaction: %w", err)
	}
	defer tx.Rollback()
	q := s.db.Queries().WithTx(tx)
	pr, err := projects.Visible(ctx, q, p, project)
	if err != nil {
		return out, err
	}
	if err := access.Require(ctx, q, p, projects.Ref(pr), access.KeySetsView); err != nil {
		return out, err
	}
	conds, args, needApp, err := f.where(ctx, q, pr)
	if err != nil {
		return out, err
	}
	where := " WHERE " + strings.Join(conds, " AND ")
	join := ""
	if needApp {
		join = " JOIN applications app ON app.id = ks.application_id"
	}
	countWhere, countArgs := where, args
	if f.narrowed() {
		// conds[0] is the project condition (see where).
		countWhere, countArgs = " WHERE "+strings.Join(append([]string{"1"}, conds[1:]...), " AND "), args[1:]
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM key_sets ks"+join+countWhere, countArgs...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("count key sets: %w", err)
	}
	query := `SELECT ks.name, ks.status, ks.auth_type, env.name, app.name, org.name, coalesce(grp.name, ''), pt.name,
	    coalesce((SELECT display FROM key_set_keys k WHERE k.key_set_id = ks.id ORDER BY k.seq DESC LIMIT 1), ''),
	    ks.created_at, ks.expires_at, ks.next_rotation_at, ks.last_rotated_at
	FROM key_sets ks
	JOIN applications app ON app.id = ks.application_id
	JOIN organizations org ON org.id = app.organization_id
	LEFT JOIN organization_groups grp ON grp.id = app.group_id
	JOIN environments env ON env.id = ks.environment_id
	JOIN policy_templates pt ON pt.id = ks.policy_template_id` + where + `
	ORDER BY ks.created_at DESC, ks.id DESC LIMIT ? OFFSET ?`
	rows, err := tx.QueryContext(ctx, query, append(args, f.Size, (f.Page-1)*f.Size)...)
	if err != nil {
		return out, fmt.Errorf("list key sets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it ListItem
		var exp, rot, last sql.NullTime
		if err := rows.Scan(&it.Name, &it.Status, &it.AuthType, &it.Environment, &it.Application, &it.Organization, &it.Group, &it.Policy,
			&it.LatestKey, &it.CreatedAt, &exp, &rot, &last); err != nil {
			return out, fmt.Errorf("list key sets: %w", err)
		}
		it.ExpiresAt, it.NextRotationAt, it.LastRotatedAt = ptr(exp), ptr(rot), ptr(last)
		out.Items = append(out.Items, it)
	}
	return out, rows.Err()
}
