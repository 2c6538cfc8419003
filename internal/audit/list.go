package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/queries"
)

// Filter selects audit entries. Empty fields match everything. Projects, when
// non-nil, limits the result to those projects (what a non-admin may read).
type Filter struct {
	Actor    string
	Action   string
	Project  string
	Object   string
	From, To time.Time // To is exclusive
	Projects []string
	Page     int // 1-based
	Size     int
}

// MaxPageSize bounds Filter.Size.
const MaxPageSize = 500

// Page is one page of entries, newest first.
type Page struct {
	Entries []queries.AuditLog
	Page    int
	Size    int
	HasNext bool
}

// where builds the WHERE clause for f. The audit log is the one place whose
// query shape depends on the filters given: each filter that is set adds a
// condition an index can serve (see the audit_log_* indexes in schema.sql);
// sqlc's static queries would force "(? = ” OR col = ?)" terms, which SQLite
// cannot use an index for.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a...) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// A prefix ("key.") can match a large share of the log; the
			// unary + keeps SQLite from sorting every match through the
			// action index and lets it walk ids newest first instead.
			add("+action >= ? AND +action < ?", f.Action, f.Action+"\uffff")
		} else {
			add("action = ?", f.Action)
		}
	}
	if f.Project != "" {
		add("project = ?", f.Project)
	}
	if f.Object != "" {
		add("object = ?", f.Object)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.UTC())
	}
	if f.Projects != nil {
		if len(f.Projects) == 0 {
			add("0")
		} else {
			add("project IN (?"+strings.Repeat(",?", len(f.Projects)-1)+")", anySlice(f.Projects)...)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

const columns = "id, at, actor, via, action, project, object, environment, source_addr, outcome, detail, prev_hash, hash"

// List returns one page of entries matching f, newest first. It asks for one
// row more than the page size to know whether a next page exists, instead of
// counting every match.
func (l *Log) List(ctx context.Context, f Filter) (Page, error) {
	if f.Size <= 0 {
		f.Size = 50
	}
	if f.Size > MaxPageSize {
		f.Size = MaxPageSize
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	if err := l.Flush(ctx); err != nil {
		return Page{}, err
	}
	where, args := f.where()
	query := "SELECT " + columns + " FROM audit_log" + where + " ORDER BY id DESC LIMIT ? OFFSET ?"
	args = append(args, f.Size+1, (f.Page-1)*f.Size)
	rows, err := l.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	p := Page{Page: f.Page, Size: f.Size, Entries: []queries.AuditLog{}}
	for rows.Next() {
		var r queries.AuditLog
		if err := rows.Scan(&r.ID, &r.At, &r.Actor, &r.Via, &r.Action, &r.Project, &r.Object,
			&r.Environment, &r.SourceAddr, &r.Outcome, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return Page{}, fmt.Errorf("list audit log: %w", err)
		}
		p.Entries = append(p.Entries, r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list audit log: %w", err)
	}
	if len(p.Entries) > f.Size {
		p.Entries, p.HasNext = p.Entries[:f.Size], true
	}
	return p, nil
}

// WriteCSV streams every entry matching f (ignoring paging), oldest first,
// as CSV with a header row, including each entry's chain hashes so that an
// auditor can check the export.
func (l *Log) WriteCSV(ctx context.Context, w io.Writer, f Filter) error {
	if err := l.Flush(ctx); err != nil {
		return err
	}
	where, args := f.where()
	rows, err := l.db.Read.QueryContext(ctx, "SELECT "+columns+" FROM audit_log"+where+" ORDER BY id", args...)
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "time", "actor", "via", "action", "project", "object", "environment", "source_address", "outcome", "detail", "prev_hash", "hash"})
	for rows.Next() {
		var r queries.AuditLog
		if err := rows.Scan(&r.ID, &r.At, &r.Actor, &r.Via, &r.Action, &r.Project, &r.Object,
			&r.Environment, &r.SourceAddr, &r.Outcome, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return fmt.Errorf("export audit log: %w", err)
		}
		cw.Write([]string{strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano), csvSafe(r.Actor), r.Via,
			r.Action, csvSafe(r.Project), csvSafe(r.Object), csvSafe(r.Environment), r.SourceAddr, r.Outcome,
			csvSafe(r.Detail), r.PrevHash, r.Hash})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return rows.Err()
}

// csvSafe defuses spreadsheet formula injection in user-chosen values,
// including a formula behind leading spaces.
func csvSafe(s string) string {
	t := strings.TrimLeft(s, " \t\r\n")
	if t != "" && strings.ContainsRune("=+-@", rune(t[0])) || s != "" && strings.ContainsRune("\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
