package testenv

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/environments"
)

// TestSnapshotCoversEveryTable lists the schema's tables and columns
// independently of the snapshot and fails on any the snapshot leaves out
// without an exclusion saying why, and on an exclusion that names a table or
// column that does not exist (a renamed column must not leave a stale
// exclusion behind).
func TestSnapshotCoversEveryTable(t *testing.T) {
	env := New(t)
	ctx := context.Background()
	schema := map[string][]string{} // table → columns
	rows, err := env.App.DB.Read.QueryContext(ctx, `SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY m.name, c.cid`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		schema[table] = append(schema[table], col)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(schema) < 10 {
		t.Fatalf("found only %d tables in sqlite_master: %v", len(schema), schema)
	}

	why := map[[2]string]string{}
	for _, x := range snapshotExclusions {
		k := [2]string{x.table, x.column}
		if _, dup := why[k]; dup {
			t.Errorf("exclusion %s.%s is listed twice", x.table, x.column)
		}
		why[k] = x.why
		if strings.TrimSpace(x.why) == "" {
			t.Errorf("exclusion %s.%s does not say why", x.table, x.column)
		}
		cols, ok := schema[x.table]
		switch {
		case !ok:
			t.Errorf("exclusion names table %q, which does not exist", x.table)
		case x.column != "" && !slices.Contains(cols, x.column):
			t.Errorf("exclusion names column %s.%s, which does not exist", x.table, x.column)
		}
	}
	if _, ok := schema[auditTable]; !ok {
		t.Errorf("AuditMayGrow names table %q, which does not exist", auditTable)
	}

	snap := TakeSnapshot(t, env)
	dumped := map[string][]string{}
	for _, ts := range snap.tables {
		dumped[ts.name] = ts.columns
	}
	for table, cols := range schema {
		got, ok := dumped[table]
		if !ok {
			if why[[2]string{table, ""}] == "" {
				t.Errorf("table %s is not in the snapshot and no exclusion says why", table)
			}
			continue
		}
		for _, c := range cols {
			if !slices.Contains(got, c) && why[[2]string{table, c}] == "" {
				t.Errorf("column %s.%s is not in the snapshot and no exclusion says why", table, c)
			}
		}
		for _, c := range got {
			if why[[2]string{table, c}] != "" {
				t.Errorf("column %s.%s is excluded but still in the snapshot", table, c)
			}
		}
	}
	for table := range dumped {
		if _, ok := schema[table]; !ok {
			t.Errorf("the snapshot has table %s, which sqlite_master does not list", table)
		}
	}
}

// TestSnapshotDiff: a changed sealed blob, an added row and an appended
// audit entry each show, naming the table and row; an excluded column does
// not; AuditMayGrow lets the audit log (and only it) gain rows.
func TestSnapshotDiff(t *testing.T) {
	env := New(t)
	ctx := context.Background()
	env.CreateUser("root", true)
	env.CreateUser("bob", false)
	root := env.Principal("root")
	if _, err := env.App.Environments.Create(ctx, root, environments.Input{Name: "production", WebhookURL: "https://gw.example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	env.Token("root")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := env.App.DB.Write.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	before := TakeSnapshot(t, env)
	if d := before.Changes(t); d != "" {
		t.Fatalf("two snapshots of an idle instance differ:\n%s", d)
	}
	if !strings.Contains(before.String(), "environments id=1 ") || !strings.Contains(before.String(), "webhook_secret=blob(") {
		t.Errorf("the snapshot does not show the environment and its sealed webhook secret:\n%s", before)
	}

	exec("UPDATE api_tokens SET last_used_at = ?", env.Clock.Now())
	if d := before.Changes(t); d != "" {
		t.Errorf("an excluded column counted as a change:\n%s", d)
	}

	exec("UPDATE environments SET webhook_secret = zeroblob(64) WHERE name = 'production'")
	d := before.Changes(t)
	if !strings.HasPrefix(d, "table(s) environments changed:") || !strings.Contains(d, "changed id=1 (webhook_secret)") ||
		!strings.Contains(d, "webhook_secret=blob(64 bytes") {
		t.Errorf("a changed sealed blob: diff\n%s", d)
	}

	before = TakeSnapshot(t, env)
	exec("INSERT INTO settings (name, value) VALUES ('snapshot-test', 'x')")
	if d := before.Changes(t, AuditMayGrow); !strings.Contains(d, "settings:\n  added   name=\"snapshot-test\" value=\"x\"") {
		t.Errorf("an added row: diff\n%s", d)
	}

	before = TakeSnapshot(t, env)
	e := audit.For(env.Principal("bob"), "project.create")
	if err := env.App.Audit.Refuse(ctx, e, access.RequireAdmin(env.Principal("bob"))); err == nil {
		t.Fatal("bob passed RequireAdmin")
	}
	if d := before.Changes(t); !strings.HasPrefix(d, "table(s) audit_log changed:") || !strings.Contains(d, `added   id=`) {
		t.Errorf("an appended audit entry: diff\n%s", d)
	}
	if d := before.Changes(t, AuditMayGrow); d != "" {
		t.Errorf("AuditMayGrow still reports the appended entry:\n%s", d)
	}
}
