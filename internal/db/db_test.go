package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/queries"
)

const schemaV1 = `-- a comment before the first block is ignored
-- version: 1
CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
`

const schemaV2 = schemaV1 + `
-- version: 2
ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'blue';
CREATE INDEX things_colour ON things (colour);
`

func realSchema(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func open(t *testing.T, path, schema string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, schema)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestMigrationUpgradesInPlace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyward.db")
	d := open(t, path, schemaV1)
	if v, err := d.Version(ctx); err != nil || v != 1 {
		t.Fatalf("version after first open: %d %v", v, err)
	}
	if _, err := d.Write.ExecContext(ctx, "INSERT INTO things (name) VALUES ('alpha'), ('beta')"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = open(t, path, schemaV2)
	if v, err := d.Version(ctx); err != nil || v != 2 {
		t.Fatalf("version after upgrade: %d %v", v, err)
	}
	rows, err := d.Read.QueryContext(ctx, "SELECT name, colour FROM things ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, colour string
		if err := rows.Scan(&name, &colour); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+"/"+colour)
	}
	rows.Close()
	if strings.Join(got, ",") != "alpha/blue,beta/blue" {
		t.Fatalf("rows after upgrade: %v", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again applies nothing twice.
	d = open(t, path, schemaV2)
	if v, _ := d.Version(ctx); v != 2 {
		t.Fatalf("version after reopen: %d", v)
	}
	d.Close()

	// An older binary refuses the newer file instead of running on it.
	_, err = db.Open(ctx, path, schemaV1)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("older schema on a newer file: %v", err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyward.db")
	d := open(t, path, schemaV1)
	d.Close()
	bad := schemaV1 + "-- version: 2\nALTER TABLE things ADD COLUMN size INTEGER;\nTHIS IS NOT SQL;\n"
	_, err := db.Open(ctx, path, bad)
	if err == nil || !strings.Contains(err.Error(), "migrate to version 2") {
		t.Fatalf("broken block: %v", err)
	}
	d = open(t, path, schemaV1)
	if v, _ := d.Version(ctx); v != 1 {
		t.Fatalf("version after a failed migration: %d", v)
	}
	// The block's first statement was rolled back with the rest.
	if _, err := d.Read.ExecContext(ctx, "SELECT size FROM things"); err == nil {
		t.Fatalf("a failed migration left a partial change")
	}
}

func TestMalformedSchema(t *testing.T) {
	for name, schema := range map[string]string{
		"out of order":    "-- version: 1\nCREATE TABLE a (x);\n-- version: 3\nCREATE TABLE b (x);\n",
		"repeated":        "-- version: 1\nCREATE TABLE a (x);\n-- version: 1\nCREATE TABLE b (x);\n",
		"not from one":    "-- version: 2\nCREATE TABLE a (x);\n",
		"not a number":    "-- version: one\nCREATE TABLE a (x);\n",
		"no version line": "CREATE TABLE a (x);\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyward.db")
			_, err := db.Open(context.Background(), path, schema)
			if err == nil || !strings.Contains(err.Error(), "schema") {
				t.Fatalf("error %v, want a schema error", err)
			}
			if _, err := db.SchemaVersion(schema); err == nil {
				t.Fatalf("SchemaVersion accepted it")
			}
		})
	}
}

func TestPragmasAndPermissions(t *testing.T) {
	ctx := context.Background()
	schema := realSchema(t)
	path := filepath.Join(t.TempDir(), "sub", "keyward.db")
	d := open(t, path, schema)
	want, err := db.SchemaVersion(schema)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Version(ctx); err != nil || v != want {
		t.Fatalf("version %d %v, want %d", v, err, want)
	}
	for _, pool := range []struct {
		name string
		q    func(string) (string, error)
	}{
		{"write", func(p string) (string, error) {
			var v string
			return v, d.Write.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v)
		}},
		{"read", func(p string) (string, error) {
			var v string
			return v, d.Read.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v)
		}},
	} {
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
			got, err := pool.q(pragma)
			if err != nil || got != want {
				t.Errorf("%s pool: %s = %q %v, want %q", pool.name, pragma, got, err, want)
			}
		}
	}
	// Foreign keys are enforced: a session for a missing user is refused.
	err = d.InTx(ctx, func(q *queries.Queries) error {
		now := time.Now().UTC()
		return q.CreateWebSession(ctx, queries.CreateWebSessionParams{IDHash: []byte("x"), UserID: 42, CreatedAt: now, LastSeenAt: now, SourceAddr: "127.0.0.1"})
	})
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("dangling foreign key: %v", err)
	}
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", st.Mode().Perm())
	}
	if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
		t.Errorf("created directory mode %v, want 0700", dir.Mode().Perm())
	}
}

// TestInTxRollsBack: an error from fn leaves nothing behind.
func TestInTxRollsBack(t *testing.T) {
	ctx := context.Background()
	d := open(t, filepath.Join(t.TempDir(), "keyward.db"), realSchema(t))
	now := time.Now().UTC()
	err := d.InTx(ctx, func(q *queries.Queries) error {
		if _, err := q.CreateUser(ctx, queries.CreateUserParams{Username: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return context.Canceled
	})
	if err != context.Canceled {
		t.Fatalf("InTx returned %v", err)
	}
	if n, _ := d.Queries().CountUsers(ctx); n != 0 {
		t.Fatalf("rolled-back transaction left %d users", n)
	}
}

// TestBackupWhileWriting copies the database while another goroutine keeps
// writing; the copy opens, is consistent and holds the data.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	schema := realSchema(t)
	dir := t.TempDir()
	d := open(t, filepath.Join(dir, "keyward.db"), schema)
	var written atomic.Int64
	insert := func(i int64) error {
		now := time.Now().UTC()
		return d.InTx(ctx, func(q *queries.Queries) error {
			_, err := q.CreateUser(ctx, queries.CreateUserParams{Username: fmt.Sprintf("user%d", i),
				PasswordHash: "hash", CreatedAt: now, UpdatedAt: now})
			return err
		})
	}
	for i := range int64(50) {
		if err := insert(i); err != nil {
			t.Fatal(err)
		}
		written.Add(1)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(50); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := insert(i); err != nil {
				writeErr = err
				return
			}
			written.Add(1)
		}
	}()
	dest := filepath.Join(dir, "backup.db")
	time.Sleep(10 * time.Millisecond)
	err := d.Backup(ctx, dest)
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("writes during the backup failed: %v", writeErr)
	}
	st, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", st.Mode().Perm())
	}
	if err := d.Backup(ctx, dest); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}

	b := open(t, dest, schema)
	var check string
	if err := b.Read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("backup integrity: %q %v", check, err)
	}
	n, err := b.Queries().CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 || n > written.Load() {
		t.Fatalf("backup holds %d users; %d were written", n, written.Load())
	}
	v, _ := b.Version(ctx)
	if want, _ := db.SchemaVersion(schema); v != want {
		t.Fatalf("backup schema version %d, want %d", v, want)
	}
}
