package expiry

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
)

// TestExpiryQueriesUseIndexes pins the query plans that keep the overview
// fast over 100,000 rows (docs/benchmarks.md, "Expiry overview over 100,000
// objects"): the count is read from a covering index, for an admin and for a
// member's permission scope alike; a page sorted by date walks expiries_at
// in order with no sort, and by name expiries_name.
func TestExpiryQueriesUseIndexes(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	schema, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "plan.db"), string(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []string{
		"INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES (2, 'member', '-', ?, ?)",
		"INSERT INTO projects (id, name, created_at, updated_at) VALUES (1, 'payments', ?, ?)",
		"INSERT INTO project_members (project_id, user_id, permissions, updated_at) VALUES (1, 2, 'SECRETS:VIEW,KEY_SETS:VIEW', ?)",
	} {
		args := []any{now, now}
		if strings.HasPrefix(q, "INSERT INTO project_members") {
			args = args[:1]
		}
		if _, err := d.Write.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	s := NewService(d, clock.NewFake(now))
	admin := access.Principal{UserID: 1, Username: "root", Admin: true, Via: "web"}
	member := access.Principal{UserID: 2, Username: "member", Via: "web"}
	within := 30 * 24 * time.Hour
	plan := func(tx *sql.Tx, query string, args []any) string {
		rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, " | ")
	}
	cases := []struct {
		name  string
		p     access.Principal
		f     Filter
		count string // in the count's plan
		page  string // in the plan of the subquery that picks the page's ids, which never sorts
	}{
		{"admin", admin, Filter{}, "COVERING INDEX", "SCAN e USING COVERING INDEX expiries_at"},
		{"admin within", admin, Filter{Within: within}, "COVERING INDEX expiries_at (at<?)", "COVERING INDEX expiries_at (at<?)"},
		{"member", member, Filter{}, "COVERING INDEX", "COVERING INDEX expiries_at"},
		{"member within", member, Filter{Within: within}, "COVERING INDEX expiries_at (at<?)", "COVERING INDEX expiries_at (at<?)"},
		{"member type", member, Filter{Type: Certificate}, "COVERING INDEX expiries_type_at (type=?)", "INDEX expiries_type_at (type=?)"},
		{"admin sort name", admin, Filter{Sort: "name"}, "COVERING INDEX", "INDEX expiries_name"},
		{"member sort environment", member, Filter{Sort: "environment"}, "COVERING INDEX", "COVERING INDEX expiries_environment_name"},
		{"admin sort project", admin, Filter{Sort: "project"}, "COVERING INDEX", "COVERING INDEX expiries_project_name"},
	}
	for _, c := range cases {
		err := s.read(ctx, c.p, c.f, now, func(tx *sql.Tx, where string, args []any) error {
			if got := plan(tx, countSQL(where), args); !strings.Contains(got, c.count) {
				t.Errorf("%s: count plan %q, want %q", c.name, got, c.count)
			}
			// The page's ids: the outer query then reads (and orders) only those 50.
			if got := plan(tx, pageIDsSQL(where, orderBy(c.f)), append(args, 50, 0)); !strings.Contains(got, c.page) || strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("%s: page ids plan %q, want %q and no sort", c.name, got, c.page)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
