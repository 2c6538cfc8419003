package audit

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/db"
)

// TestListQueriesUseIndexes pins the query plans that keep a page of the
// audit log fast on a large log (see docs/benchmarks.md): every filter is
// served by an index, and only the unfiltered page walks the table, newest
// first, stopping after one page.
func TestListQueriesUseIndexes(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	schema, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"), string(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		f     Filter
		index string
	}{
		{Filter{}, "SCAN audit_log"},
		{Filter{Project: "p", Action: "key.deploy"}, "INDEX audit_log_project_action (project=? AND action=?)"},
		{Filter{Project: "p"}, "INDEX audit_log_project_id_at (project=?)"},
		{Filter{Project: "p", From: day, To: day.AddDate(0, 0, 7)}, "INDEX audit_log_project_id_at (project=?)"},
		{Filter{Projects: []string{"a", "b"}, From: day}, "INDEX audit_log_project_id_at (project=?)"},
		{Filter{Actor: "u", From: day, To: day.AddDate(0, 0, 7)}, "INDEX audit_log_actor_id_at (actor=?)"},
		{Filter{Action: "audit.verify"}, "INDEX audit_log_action (action=?)"},
		{Filter{Object: "key/k"}, "INDEX audit_log_object (object=?)"},
		{Filter{From: day, To: day.AddDate(0, 0, 7)}, "INDEX audit_log_at (at>? AND at<?)"},
	}
	for _, c := range cases {
		where, args := c.f.where()
		rows, err := d.Read.Query("EXPLAIN QUERY PLAN SELECT "+columns+" FROM audit_log"+where+" ORDER BY id DESC LIMIT ? OFFSET ?",
			append(args, 51, 0)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, " | "); !strings.Contains(got, c.index) {
			t.Errorf("filter %q %v: plan %q, want %q", c.f.String(), c.f.Projects, got, c.index)
		}
	}
}
