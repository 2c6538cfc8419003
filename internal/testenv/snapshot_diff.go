package testenv

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// DiffOption relaxes a Diff.
type DiffOption func(*diffRules)

type diffRules struct {
	appendOnly map[string]bool // tables that may gain rows
}

// AuditMayGrow lets the audit log gain rows (refusals are audited) while
// every earlier entry stays as it was. Callers that pass it assert the new
// entries themselves.
func AuditMayGrow(r *diffRules) { r.appendOnly[auditTable] = true }

// maxRowsShown caps the rows a Diff prints per table.
const maxRowsShown = 3

// Diff describes what changed from s to after: "" when nothing did,
// otherwise the changed tables by name and, for each, the first rows
// removed, changed or added.
func (s *Snapshot) Diff(after *Snapshot, opts ...DiffOption) string {
	rules := diffRules{appendOnly: map[string]bool{}}
	for _, o := range opts {
		o(&rules)
	}
	byName := func(ss *Snapshot) map[string]tableSnapshot {
		m := map[string]tableSnapshot{}
		for _, ts := range ss.tables {
			m[ts.name] = ts
		}
		return m
	}
	old, cur := byName(s), byName(after)
	var names []string
	for n := range old {
		names = append(names, n)
	}
	for n := range cur {
		if _, ok := old[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var changed []string
	var detail strings.Builder
	for _, n := range names {
		if d := diffTable(n, old[n], cur[n], rules.appendOnly[n]); d != "" {
			changed = append(changed, n)
			detail.WriteString(d)
		}
	}
	if len(changed) == 0 {
		return ""
	}
	return fmt.Sprintf("table(s) %s changed:\n%s", strings.Join(changed, ", "), detail.String())
}

// Changes takes a new snapshot of the same instance and returns what changed
// since s (see Diff).
func (s *Snapshot) Changes(t testing.TB, opts ...DiffOption) string {
	t.Helper()
	return s.Diff(TakeSnapshot(t, s.env), opts...)
}

func diffTable(name string, before, after tableSnapshot, appendOnly bool) string {
	var lines []string
	if !slices.Equal(before.columns, after.columns) {
		lines = append(lines, fmt.Sprintf("  columns %v became %v", before.columns, after.columns))
	}
	now := map[string]snapshotRow{}
	for _, r := range after.rows {
		now[r.key] = r
	}
	was := map[string]bool{}
	for _, r := range before.rows {
		was[r.key] = true
		a, ok := now[r.key]
		switch {
		case !ok:
			lines = append(lines, "  removed "+r.text)
		case a.text != r.text:
			lines = append(lines, fmt.Sprintf("  changed %s (%s)\n     from %s\n       to %s",
				r.key, strings.Join(changedColumns(before.columns, r, a), ", "), r.text, a.text))
		}
	}
	for _, r := range after.rows {
		if !was[r.key] && !appendOnly {
			lines = append(lines, "  added   "+r.text)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", name)
	for i, l := range lines {
		if i == maxRowsShown {
			fmt.Fprintf(&b, "  … and %d more\n", len(lines)-maxRowsShown)
			break
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// changedColumns names the columns whose values differ between two versions
// of a row (all of them when the columns themselves changed).
func changedColumns(columns []string, before, after snapshotRow) []string {
	if len(before.values) != len(after.values) {
		return columns
	}
	var out []string
	for i, c := range columns {
		if before.values[i] != after.values[i] {
			out = append(out, c)
		}
	}
	return out
}
