package dashboard_test

import (
	"context"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/dashboard"
	"github.com/keyward/keyward/internal/testenv"
)

// TestFailuresUseThePartialIndex: the dashboard's failed webhooks come from
// the partial index of failed deliveries, not a scan of every deployment.
func TestFailuresUseThePartialIndex(t *testing.T) {
	env := testenv.New(t)
	q, args := dashboard.FailuresSQL([]any{"payments"}, []any{int64(1)})
	rows, err := env.App.DB.Read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "deployments_webhook_failed") || strings.Contains(joined, "SCAN d\n") || strings.HasSuffix(joined, "SCAN d") {
		t.Errorf("plan:\n%s", joined)
	}
}
