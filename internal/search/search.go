// Package search finds objects by name across the projects a user can see
// (and the environments, their truststores and, for admins, the users):
// the header's search box. Each kind of object is looked up in its own
// table, only in the projects where the user holds its area's VIEW
// permission; key sets, which can be many, through their trigram index.
package search

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Result is one object found.
type Result struct {
	Kind    string // "Key", "Certificate", ...
	Project string // "" for an environment or a project itself
	Name    string
	Link    string
}

// MaxQuery bounds the text searched for.
const MaxQuery = 100

// PerKind bounds the results of each kind.
const PerKind = 8

// Service searches.
type Service struct{ db *db.DB }

// NewService returns the search Service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

// kind is one kind of object: where its names are and who may see them.
type kind struct {
	label string
	area  access.Permission // "" = anyone who can see the project
	sql   string            // selects (project name, object name) where the name contains ?1, in projects ?2...
	link  func(project, name string) string
}

func projectLink(rest string) func(string, string) string {
	return func(project, name string) string {
		return "/projects/" + url.PathEscape(project) + rest + url.PathEscape(name)
	}
}

var kinds = []kind{
	{"Key", access.SecretsView, "keys", projectLink("/keys/")},
	{"Certificate", access.SecretsView, "certificates", projectLink("/certificates/")},
	{"JWK", access.SecretsView, "jwks", projectLink("/jwks/")},
	{"Signer alias", access.SigningKeysView, "signers", projectLink("/signing-keys/signers/")},
	{"API", access.KeySetsView, "apis", projectLink("/api-catalog/")},
	{"Application", access.KeySetsView, "applications", projectLink("/applications/")},
	{"Organization", access.KeySetsView, "organizations", projectLink("/organizations/")},
	{"Policy template", access.KeySetsView, "policy_templates", projectLink("/policy-templates/")},
}

// Find returns the objects whose name contains q (case-insensitive), at
// most PerKind of each kind, in the projects p can see.
func (s *Service) Find(ctx context.Context, p access.Principal, q string) ([]Result, error) {
	if !p.Authenticated() {
		return nil, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return []Result{}, nil
	}
	if utf8.RuneCountInString(q) > MaxQuery {
		return nil, errs.FieldErrorf("q", "Search for at most %d characters.", MaxQuery)
	}
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer tx.Rollback()
	qs := queries.New(tx)
	var prs []queries.Project
	if p.Admin {
		prs, err = qs.ListProjects(ctx)
	} else {
		prs, err = qs.ListProjectsForUser(ctx, p.UserID)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	// The projects in which p holds each area's VIEW permission.
	byArea := map[access.Permission][]any{}
	out := []Result{}
	for _, pr := range prs {
		perms, err := access.Permissions(ctx, qs, p, pr.ID)
		if err != nil {
			return nil, err
		}
		for _, area := range []access.Permission{access.SecretsView, access.SigningKeysView, access.KeySetsView} {
			if perms[area] {
				byArea[area] = append(byArea[area], pr.ID)
			}
		}
		if strings.Contains(strings.ToLower(pr.Name), q) && len(out) < PerKind {
			out = append(out, Result{Kind: "Project", Name: pr.Name, Link: "/projects/" + url.PathEscape(pr.Name)})
		}
	}
	for _, k := range kinds {
		ids := byArea[k.area]
		if len(ids) == 0 {
			continue
		}
		found, err := names(ctx, tx, "SELECT p.name, t.name FROM "+k.sql+" t JOIN projects p ON p.id = t.project_id "+
			"WHERE instr(lower(t.name), ?) > 0 AND t.project_id IN "+in(len(ids))+" ORDER BY t.name LIMIT ?", append(append([]any{q}, ids...), PerKind)...)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			out = append(out, Result{Kind: k.label, Project: f[0], Name: f[1], Link: k.link(f[0], f[1])})
		}
	}
	if ids := byArea[access.KeySetsView]; len(ids) > 0 && utf8.RuneCountInString(q) >= 3 {
		found, err := names(ctx, tx, "SELECT p.name, ks.name FROM key_sets ks JOIN projects p ON p.id = ks.project_id "+
			"WHERE ks.id IN (SELECT rowid FROM key_set_search WHERE key_set_search MATCH ?) AND +ks.project_id IN "+in(len(ids))+" ORDER BY ks.name LIMIT ?",
			append(append([]any{`"` + strings.ReplaceAll(q, `"`, `""`) + `"`}, ids...), PerKind)...)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			out = append(out, Result{Kind: "Key set", Project: f[0], Name: f[1], Link: projectLink("/key-sets/")(f[0], f[1])})
		}
	}
	if ids := byArea[access.SigningKeysView]; len(ids) > 0 {
		found, err := names(ctx, tx, "SELECT p.name, k.label || ' (' || k.cka_id || ')', k.cka_id FROM signing_keys k JOIN projects p ON p.id = k.project_id "+
			"WHERE instr(lower(k.label), ?) > 0 AND k.project_id IN "+in(len(ids))+" ORDER BY k.label LIMIT ?", append(append([]any{q}, ids...), PerKind)...)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			out = append(out, Result{Kind: "Signing key", Project: f[0], Name: f[1], Link: projectLink("/signing-keys/")(f[0], f[2])})
		}
	}
	envs, err := names(ctx, tx, "SELECT '', name FROM environments WHERE instr(lower(name), ?) > 0 ORDER BY name LIMIT ?", q, PerKind)
	if err != nil {
		return nil, err
	}
	for _, f := range envs {
		out = append(out, Result{Kind: "Environment", Name: f[1], Link: "/environments/" + url.PathEscape(f[1])})
	}
	// Truststores belong to environments, which every user can read.
	cas, err := names(ctx, tx, "SELECT e.name, CASE WHEN c.alias <> '' THEN c.alias ELSE c.subject END FROM truststore_cas c JOIN environments e ON e.id = c.environment_id "+
		"WHERE instr(lower(c.alias), ?) > 0 OR instr(lower(c.subject), ?) > 0 ORDER BY e.name, c.alias LIMIT ?", q, q, PerKind)
	if err != nil {
		return nil, err
	}
	for _, f := range cas {
		out = append(out, Result{Kind: "Truststore CA", Project: "", Name: f[1] + " (" + f[0] + ")", Link: "/environments/" + url.PathEscape(f[0])})
	}
	if p.Admin {
		users, err := names(ctx, tx, "SELECT '', username FROM users WHERE instr(lower(username), ?) > 0 ORDER BY username LIMIT ?", q, PerKind)
		if err != nil {
			return nil, err
		}
		for _, f := range users {
			out = append(out, Result{Kind: "User", Name: f[1], Link: "/admin/users/" + url.PathEscape(f[1])})
		}
	}
	return out, nil
}

func in(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")" }

// names runs a query of string columns.
func names(ctx context.Context, tx *sql.Tx, query string, args ...any) ([][]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
