package db_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/testenv"
)

// TestMigrationToExpiriesAndKeySets upgrades a version 7 file to version 10:
// what it held stays, the expiries table (version 8) already lists the
// tokens with an end date it held, the key set tables (version 9) are there
// and empty, and their foreign keys hold.
func TestMigrationToExpiriesAndKeySets(t *testing.T) {
	ctx := context.Background()
	full := testenv.SchemaSQL(t)
	v7 := full[:strings.Index(full, "-- version: 8")]
	path := filepath.Join(t.TempDir(), "keyward.db")
	old, err := db.Open(ctx, path, v7)
	if err != nil {
		t.Fatal(err)
	}
	now := "2026-11-30 10:00:00+00:00"
	for _, stmt := range []string{
		`INSERT INTO projects (id, name, created_at, updated_at) VALUES (1, 'payments', '` + now + `', '` + now + `')`,
		`INSERT INTO environments (id, name, created_at, updated_at) VALUES (1, 'production', '` + now + `', '` + now + `')`,
		`INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES (1, 'vic', 'x', '` + now + `', '` + now + `')`,
		`INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at) VALUES (1, 'ci', x'01', 'kw_', '` + now + `', '2026-12-30 10:00:00+00:00')`,
		`INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (1, 'forever', x'02', 'kw_', '` + now + `')`,
	} {
		if _, err := old.Write.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if v, _ := old.Version(ctx); v != 7 {
		t.Fatalf("old file is version %d", v)
	}
	old.Close()

	d, err := db.Open(ctx, path, full)
	if err != nil {
		t.Fatalf("upgrade to version 10: %v", err)
	}
	defer d.Close()
	if v, _ := d.Version(ctx); v != 10 {
		t.Fatalf("version %d after the upgrade", v)
	}
	var n int
	if err := d.Read.QueryRowContext(ctx, "SELECT count(*) FROM projects JOIN environments").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows kept: %d, %v", n, err)
	}
	var name, detail, at string
	if err := d.Read.QueryRowContext(ctx, "SELECT count(*), min(name), min(detail), min(at) FROM expiries WHERE type = 'api_token'").Scan(&n, &name, &detail, &at); err != nil ||
		n != 1 || name != "ci" || detail != "vic" || !strings.HasPrefix(at, "2026-12-30") {
		t.Errorf("expiries after the upgrade: %d rows (%q %q %q), %v; want the token with an end date only", n, name, detail, at, err)
	}
	for _, table := range []string{"organizations", "organization_groups", "applications", "policy_templates", "apis", "api_environments",
		"subscriptions", "key_sets", "key_set_subscriptions", "key_set_keys", "key_set_events"} {
		if err := d.Read.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows, %v", table, n, err)
		}
	}
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO applications (project_id, organization_id, name, created_at, updated_at) VALUES (1, 99, 'x', ?, ?)`, now, now); err == nil {
		t.Error("an application of an unknown organization was stored")
	}
}
