package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
)

func TestTriggersKeepTheLogAppendOnly(t *testing.T) {
	env := newTeam(t)
	w := env.App.DB.Write
	if _, err := w.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 2`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("UPDATE: %v, want the append-only refusal", err)
	}
	if _, err := w.Exec(`DELETE FROM audit_log WHERE id = 2`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("DELETE: %v, want the append-only refusal", err)
	}
	res, err := env.App.Audit.Verify(context.Background())
	if err != nil || !res.Intact() || res.Entries < 5 {
		t.Fatalf("untouched log: %+v, %v", res, err)
	}
}

func TestVerifyFindsAModifiedEntry(t *testing.T) {
	env := newTeam(t)
	// An attacker with the file drops the trigger and edits a row.
	w := env.App.DB.Write
	if _, err := w.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`UPDATE audit_log SET detail = 'nothing to see' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	res, err := env.App.Audit.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.BadID != 3 || res.Entries != 2 || !strings.Contains(res.Problem, "entry 3 was modified") {
		t.Fatalf("got %+v, want entry 3 reported as modified", res)
	}
	if got := res.Summary(); !strings.HasPrefix(got, "Broken at entry 3: ") {
		t.Fatalf("summary %q", got)
	}
	// Rewriting the hash too does not help: without the chain key no one can
	// compute the matching one.
	if _, err := w.Exec(`UPDATE audit_log SET hash = ? WHERE id = 3`, strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	if res, _ := env.App.Audit.Verify(context.Background()); res.BadID != 3 {
		t.Fatalf("forged hash: got %+v, want entry 3", res)
	}
}

func TestVerifyFindsADeletedEntry(t *testing.T) {
	env := newTeam(t)
	w := env.App.DB.Write
	if _, err := w.Exec(`DROP TRIGGER audit_log_no_delete`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`DELETE FROM audit_log WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	res, err := env.App.Audit.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.BadID != 4 || !strings.Contains(res.Problem, "entry 4 is missing") {
		t.Fatalf("got %+v, want entry 4 reported as missing", res)
	}
}

func TestCheckIntegrityIsForAdminsAndAudited(t *testing.T) {
	env := newTeam(t)
	ctx, log := context.Background(), env.App.Audit
	if _, err := log.CheckIntegrity(ctx, env.Principal("alice")); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("auditor: %v, want Forbidden", err)
	}
	res, err := log.CheckIntegrity(ctx, env.Principal("root"))
	if err != nil || !res.Intact() {
		t.Fatalf("admin: %+v, %v", res, err)
	}
	p, err := log.Query(ctx, env.Principal("root"), audit.Filter{Action: "audit.verify"})
	if err != nil || len(p.Entries) != 2 {
		t.Fatalf("audit.verify entries: %+v, %v", p.Entries, err)
	}
	if e := p.Entries[0]; e.Actor != "root" || e.Outcome != audit.Success || e.Detail != res.Summary() {
		t.Fatalf("recorded check: %+v", e)
	}
	if e := p.Entries[1]; e.Actor != "alice" || e.Outcome != audit.Denied {
		t.Fatalf("recorded refusal: %+v", e)
	}
}

func TestExportIsAuditedAndDefusesFormulas(t *testing.T) {
	env := newTeam(t)
	ctx, log := context.Background(), env.App.Audit
	e := audit.For(env.Principal("alice"), "key.create")
	e.Project, e.Object, e.Detail = "payments", "=HYPERLINK(\"http://evil\")", "+1-2"
	if err := log.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := log.Export(ctx, env.Principal("alice"), audit.Filter{Action: "key."}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != "id,time,actor,via,action,project,object,environment,source_address,outcome,detail,prev_hash,hash" {
		t.Fatalf("export: %q", rows)
	}
	if row := rows[1]; row[6] != `'=HYPERLINK("http://evil")` || row[10] != "'+1-2" || row[5] != "payments" {
		t.Fatalf("formula cells not defused: %q", row)
	}
	p, _ := log.Query(ctx, env.Principal("root"), audit.Filter{Action: "audit.export"})
	if len(p.Entries) != 1 || p.Entries[0].Actor != "alice" || p.Entries[0].Detail != "action=key." {
		t.Fatalf("export not audited: %+v", p.Entries)
	}
	if err := log.Export(ctx, env.Principal("bob"), audit.Filter{}, &buf); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("bob's export: %v, want Forbidden", err)
	}
	if p, _ := log.Query(ctx, env.Principal("root"), audit.Filter{Action: "audit.export", Actor: "bob"}); len(p.Entries) != 1 || p.Entries[0].Outcome != audit.Denied {
		t.Fatalf("refused export not audited: %+v", p.Entries)
	}
}
