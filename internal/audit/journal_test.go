package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/queries"
)

// openLog opens a database in dir and an audit Log on it, without the app.
func openLog(t *testing.T, dir string) (*db.DB, *audit.Log) {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(dir, "keyward.db"), testenv.SchemaSQL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, audit.New(d, []byte("0123456789abcdef0123456789abcdef"), clock.System{})
}

func countEntries(t *testing.T, d *db.DB, action string) int {
	t.Helper()
	var n int
	if err := d.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestJournalEntriesJoinTheChain: entries journaled from many goroutines
// all reach the chain, in one piece, and a read sees every one of them.
func TestJournalEntriesJoinTheChain(t *testing.T) {
	env := newTeam(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				e := audit.Entry{Actor: "svc", Action: "signing_key.sign", Project: "payments", Object: "signing-key/01", Detail: fmt.Sprintf("g%d i%d", g, i)}
				if err := env.App.Audit.Journal(ctx, e); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// The page is read at once: List flushes what is still waiting.
	page, err := env.App.Audit.List(ctx, audit.Filter{Action: "signing_key.sign", Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 200 {
		t.Fatalf("the audit log lists %d signature entries, want 200", len(page.Entries))
	}
	seen := map[string]bool{}
	for _, e := range page.Entries {
		seen[e.Detail] = true
	}
	if len(seen) != 200 {
		t.Fatalf("%d distinct entries, want 200 (an entry was applied twice or lost)", len(seen))
	}
	res, err := env.App.Audit.Verify(ctx)
	if err != nil || !res.Intact() {
		t.Fatalf("chain after journaled entries: %+v, %v", res, err)
	}
}

// TestJournalRecoversWhatAStoppedServerLeft: a server that died left a
// segment whose first line was already applied and whose last line was cut
// short by the crash. The next start applies the rest exactly once, drops
// the torn line, keeps the chain intact and removes the file.
func TestJournalRecoversWhatAStoppedServerLeft(t *testing.T) {
	dir := t.TempDir()
	d, l := openLog(t, dir)
	ctx := context.Background()
	jdir := filepath.Join(dir, "journal")
	if err := os.MkdirAll(jdir, 0o700); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var lines []string
	for i := 1; i <= 3; i++ {
		lines = append(lines, fmt.Sprintf(`{"at":%q,"actor":"svc","action":"signing_key.sign","outcome":"success","detail":"line %d"}`, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i))
	}
	torn := `{"at":"2026-11-30T12:00:04Z","actor":"svc","act`
	seg := filepath.Join(jdir, "segment-000000000007.jsonl")
	if err := os.WriteFile(seg, []byte(strings.Join(lines, "\n")+"\n"+torn), 0o600); err != nil {
		t.Fatal(err)
	}
	// Line 1 of segment 7 joined the chain before the crash.
	if err := d.InTx(ctx, func(q *queries.Queries) error {
		if err := l.Append(ctx, q, audit.Entry{At: at.Add(time.Second), Actor: "svc", Action: "signing_key.sign", Detail: "line 1"}); err != nil {
			return err
		}
		return q.PutSetting(ctx, queries.PutSettingParams{Name: "audit_journal_applied", Value: "7:1"})
	}); err != nil {
		t.Fatal(err)
	}

	if err := l.OpenJournal(ctx, jdir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.CloseJournal(ctx) })
	page, err := l.List(ctx, audit.Filter{Action: "signing_key.sign"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Detail)
	}
	if strings.Join(got, ",") != "line 3,line 2,line 1" {
		t.Fatalf("after the restart the log holds %q, want lines 3, 2, 1 once each", got)
	}
	if !page.Entries[0].At.Equal(at.Add(3 * time.Second)) {
		t.Errorf("a recovered entry keeps the time it was journaled: got %v", page.Entries[0].At)
	}
	if _, err := os.Stat(seg); !os.IsNotExist(err) {
		t.Errorf("the applied segment is still there: %v", err)
	}
	if res, err := l.Verify(ctx); err != nil || !res.Intact() {
		t.Fatalf("chain after recovery: %+v, %v", res, err)
	}
	// A later entry goes into a new segment, numbered after the old one.
	if err := l.Journal(ctx, audit.Entry{Actor: "svc", Action: "signing_key.sign", Detail: "line 4"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(jdir, "segment-000000000008.jsonl")); err != nil {
		t.Errorf("new segment: %v", err)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, d, "signing_key.sign"); n != 4 {
		t.Fatalf("after a flush the log holds %d signature entries, want 4", n)
	}
}

// TestJournalHasOneOwner: a second process on the same data directory (a
// keyward command beside the server) neither applies nor removes the
// server's journal; it records its own entries directly.
func TestJournalHasOneOwner(t *testing.T) {
	dir := t.TempDir()
	d, server := openLog(t, dir)
	_, cli := openLog(t, dir)
	ctx := context.Background()
	jdir := filepath.Join(dir, "journal")
	if err := server.OpenJournal(ctx, jdir); err != nil {
		t.Fatal(err)
	}
	if err := cli.OpenJournal(ctx, jdir); err != nil {
		t.Fatal(err)
	}
	if err := cli.Journal(ctx, audit.Entry{Actor: "root", Action: "user.create"}); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, d, "user.create"); n != 1 {
		t.Fatalf("the second process's entry: %d in the chain at once, want 1 (recorded directly)", n)
	}
	if err := server.Journal(ctx, audit.Entry{Actor: "svc", Action: "signing_key.sign"}); err != nil {
		t.Fatal(err)
	}
	if err := server.CloseJournal(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, d, "signing_key.sign"); n != 1 {
		t.Fatalf("after the server closed its journal: %d signature entries, want 1", n)
	}
	left, _ := filepath.Glob(filepath.Join(jdir, "segment-*"))
	if len(left) != 0 {
		t.Errorf("segments left after a clean close: %v", left)
	}
	// After the server stopped, the journal is free for the next owner.
	if err := cli.OpenJournal(ctx, jdir); err != nil {
		t.Fatal(err)
	}
	if err := cli.CloseJournal(ctx); err != nil {
		t.Fatal(err)
	}
}
