package db_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/testenv"
)

// TestMigrationToJWKSources upgrades a version 3 file, whose JWKs point at
// their key through jwks.source_key_id, to version 4 (source_type +
// source_id): every JWK keeps its source and its per-environment rows, a
// disconnected one stays disconnected, and jwk_configs still cascades from
// jwks.
func TestMigrationToJWKSources(t *testing.T) {
	ctx := context.Background()
	full := testenv.SchemaSQL(t)
	v3 := full[:strings.Index(full, "-- version: 4")]
	path := filepath.Join(t.TempDir(), "keyward.db")
	old, err := db.Open(ctx, path, v3)
	if err != nil {
		t.Fatal(err)
	}
	now := "2026-11-30 10:00:00+00:00"
	for _, stmt := range []string{
		`INSERT INTO projects (id, name, created_at, updated_at) VALUES (1, 'payments', '` + now + `', '` + now + `')`,
		`INSERT INTO environments (id, name, created_at, updated_at) VALUES (1, 'production', '` + now + `', '` + now + `')`,
		`INSERT INTO keys (id, project_id, name, key_type, algorithm, created_at, updated_at) VALUES (7, 1, 'signer', 'PRIVATE_KEY', 'RSA', '` + now + `', '` + now + `')`,
		`INSERT INTO jwks (id, project_id, name, source_type, source_key_id, source_name, use, alg, created_at, updated_at)
		 VALUES (3, 1, 'signer-jwk', 'KEY', 7, 'signer', 'sig', 'RS256', '` + now + `', '` + now + `')`,
		`INSERT INTO jwks (id, project_id, name, source_type, source_key_id, source_name, use, alg, created_at, updated_at)
		 VALUES (4, 1, 'loose-jwk', 'KEY', NULL, 'gone', 'sig', 'RS256', '` + now + `', '` + now + `')`,
		`INSERT INTO jwk_configs (id, jwk_id, environment_id, kid, public_json, deployed_json, deployed_revision, created_at, updated_at)
		 VALUES (9, 3, 1, 'kid-1', '{"kty":"RSA"}', '{"kty":"RSA"}', 5, '` + now + `', '` + now + `')`,
	} {
		if _, err := old.Write.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	old.Close()

	d, err := db.Open(ctx, path, full)
	if err != nil {
		t.Fatalf("upgrade to version 4: %v", err)
	}
	defer d.Close()
	rows, err := d.Read.QueryContext(ctx, "SELECT id, name, source_type, coalesce(source_id, 0), source_name FROM jwks ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id, src int64
		var name, typ, srcName string
		if err := rows.Scan(&id, &name, &typ, &src, &srcName); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{name, typ, itoa(src), srcName}, " "))
	}
	rows.Close()
	if want := "signer-jwk KEY 7 signer|loose-jwk KEY 0 gone"; strings.Join(got, "|") != want {
		t.Errorf("jwks after the upgrade: %q, want %q", strings.Join(got, "|"), want)
	}
	var kid string
	var rev int64
	if err := d.Read.QueryRowContext(ctx, "SELECT kid, deployed_revision FROM jwk_configs WHERE jwk_id = 3").Scan(&kid, &rev); err != nil || kid != "kid-1" || rev != 5 {
		t.Errorf("jwk_configs after the upgrade: %q %d %v", kid, rev, err)
	}
	// The foreign key now names the rebuilt jwks table: deleting a JWK
	// takes its configurations with it.
	if _, err := d.Write.ExecContext(ctx, "DELETE FROM jwks WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.Read.QueryRowContext(ctx, "SELECT count(*) FROM jwk_configs").Scan(&n); err != nil || n != 0 {
		t.Errorf("jwk_configs left after deleting their JWK: %d (%v)", n, err)
	}
	var leftovers int
	if err := d.Read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v4'").Scan(&leftovers); err != nil || leftovers != 0 {
		t.Errorf("%d temporary tables or indexes left behind (%v)", leftovers, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
