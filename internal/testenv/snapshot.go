package testenv

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// auditTable is the append-only audit log, which refusals write to.
const auditTable = "audit_log"

// snapshotExclusion is a column (or, with column "", a whole table) that
// every Snapshot leaves out, and why. TestSnapshotCoversEveryTable fails on
// an exclusion without a reason or naming a table or column that does not
// exist.
type snapshotExclusion struct {
	table, column, why string
}

// snapshotExclusions are the only data a Snapshot does not compare. Each is
// written by requests that otherwise change nothing, so comparing it would
// make every "nothing changed" assertion fail for the wrong reason. Nothing
// else may be left out: a refusal that changes a row must show.
var snapshotExclusions = []snapshotExclusion{
	{"web_sessions", "last_seen_at",
		"every request of a signed-in browser slides its session's idle timeout, whatever the request then does"},
	{"api_tokens", "last_used_at",
		"every authenticated API call records when its token was last used (at most once a minute), also when the call is then refused"},
	{"gateway_tokens", "last_used_at",
		"every request with a gateway token records when the token was last used, also when the request is then refused"},
}

// excluded reports whether table.column (column "" for the table itself) is
// left out of snapshots.
func excluded(table, column string) bool {
	for _, x := range snapshotExclusions {
		if x.table == table && (x.column == "" || x.column == column) {
			return true
		}
	}
	return false
}

// Snapshot is every row of every table of a test instance's database at
// one moment, blobs included, for "nothing changed" assertions. The tables
// are listed from sqlite_master when the snapshot is taken, so a table added
// to schema.sql is covered the day it is created; only snapshotExclusions
// are left out.
type Snapshot struct {
	env    *Env
	tables []tableSnapshot // by name
}

type tableSnapshot struct {
	name    string
	columns []string // the columns compared, in table order
	rows    []snapshotRow
}

// snapshotRow is one row: its primary key ("id=3"; the whole row for a
// table without one), every compared column as name=value, and the values
// alone in column order.
type snapshotRow struct {
	key, text string
	values    []string
}

// TakeSnapshot reads every table of env's database in one read
// transaction, so the snapshot is one commit's state.
func TakeSnapshot(t testing.TB, env *Env) *Snapshot {
	t.Helper()
	ctx := context.Background()
	if err := env.App.Audit.Flush(ctx); err != nil {
		t.Fatalf("snapshot: flush the audit journal: %v", err)
	}
	tx, err := env.App.DB.Read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("snapshot: begin: %v", err)
	}
	defer tx.Rollback()
	names, err := tableNames(ctx, tx)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	s := &Snapshot{env: env}
	for _, name := range names {
		if excluded(name, "") {
			continue
		}
		ts, err := dumpTable(ctx, tx, name)
		if err != nil {
			t.Fatalf("snapshot: table %s: %v", name, err)
		}
		s.tables = append(s.tables, ts)
	}
	return s
}

// tableNames lists the schema's tables, without SQLite's own (sqlite_*).
func tableNames(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// tableColumns returns a table's columns in order and its primary-key
// columns in key order.
func tableColumns(ctx context.Context, tx *sql.Tx, table string) (cols, pk []string, err error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	keyPos := map[int]string{}
	for rows.Next() {
		var name string
		var pos int
		if err := rows.Scan(&name, &pos); err != nil {
			return nil, nil, err
		}
		cols = append(cols, name)
		if pos > 0 {
			keyPos[pos] = name
		}
	}
	for i := 1; i <= len(keyPos); i++ {
		pk = append(pk, keyPos[i])
	}
	return cols, pk, rows.Err()
}

func dumpTable(ctx context.Context, tx *sql.Tx, table string) (tableSnapshot, error) {
	all, pk, err := tableColumns(ctx, tx, table)
	if err != nil {
		return tableSnapshot{}, err
	}
	ts := tableSnapshot{name: table}
	for _, c := range all {
		if !excluded(table, c) {
			ts.columns = append(ts.columns, c)
		}
	}
	order := pk
	if len(order) == 0 {
		order = ts.columns
	}
	q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", quoteAll(ts.columns), quoteIdent(table), quoteAll(order))
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return ts, err
	}
	defer rows.Close()
	vals := make([]any, len(ts.columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return ts, err
		}
		var text, key, values []string
		for i, c := range ts.columns {
			v := formatValue(vals[i])
			values = append(values, v)
			text = append(text, c+"="+v)
			if slices.Contains(pk, c) {
				key = append(key, c+"="+v)
			}
		}
		r := snapshotRow{text: strings.Join(text, " "), values: values}
		r.key = strings.Join(key, " ")
		if len(pk) == 0 {
			r.key = r.text
		}
		ts.rows = append(ts.rows, r)
	}
	return ts, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// formatValue prints one column value. A blob longer than 32 bytes is shown
// by its length and SHA-256, so a changed sealed blob shows without filling
// the failure message.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if len(x) <= 32 {
			return "x'" + hex.EncodeToString(x) + "'"
		}
		sum := sha256.Sum256(x)
		return fmt.Sprintf("blob(%d bytes, sha256 %s)", len(x), hex.EncodeToString(sum[:8]))
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}

// String prints the whole snapshot, one line per row.
func (s *Snapshot) String() string {
	var b strings.Builder
	for _, ts := range s.tables {
		for _, r := range ts.rows {
			fmt.Fprintf(&b, "%s %s\n", ts.name, r.text)
		}
	}
	return b.String()
}
