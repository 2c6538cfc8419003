package audit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/queries"
)

// The benchmarks read a log of benchEntries entries in a real SQLite file,
// seeded once per test binary: 20 projects (and instance-wide sign-ins), 40
// actors, 12 actions, 500 objects, one entry every 5 minutes from benchStart
// (about 347 days). Run them with:
//
//	go test -run XXX -bench . -benchtime 20x ./internal/audit/
const benchEntries = 100_000

var (
	benchStart = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	benchKey   = []byte("benchmark audit chain key, 32 b.")
	benchSeed  struct {
		once sync.Once
		dir  string
		err  error
	}
	benchActions = []string{"key.create", "key.update", "key.read", "key.deploy", "certificate.create", "certificate.export",
		"jwk.create", "signing_key.sign", "keyset.create", "keyset.rotate", "project.member.set", "auth.login"}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSeed.dir != "" {
		os.RemoveAll(benchSeed.dir)
	}
	os.Exit(code)
}

// benchLog opens the seeded database (seeding it on first use).
func benchLog(b *testing.B) (*db.DB, *audit.Log) {
	b.Helper()
	ctx := context.Background()
	benchSeed.once.Do(func() {
		benchSeed.dir, benchSeed.err = os.MkdirTemp("", "keyward-audit-bench-")
		if benchSeed.err == nil {
			benchSeed.err = seedBenchLog(ctx, filepath.Join(benchSeed.dir, "keyward.db"), testenv.SchemaSQL(b))
		}
	})
	if benchSeed.err != nil {
		b.Fatal(benchSeed.err)
	}
	d, err := db.Open(ctx, filepath.Join(benchSeed.dir, "keyward.db"), testenv.SchemaSQL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d, audit.New(d, benchKey, clock.NewFake(benchStart))
}

// seedBenchLog writes the projects, an auditor of five of them (user 2) and
// the entries, appending them with Log.Append in one transaction so that the
// chain is the real one.
func seedBenchLog(ctx context.Context, path, schema string) error {
	start := time.Now()
	d, err := db.Open(ctx, path, schema)
	if err != nil {
		return err
	}
	defer d.Close()
	fc := clock.NewFake(benchStart)
	log := audit.New(d, benchKey, fc)
	rng := rand.New(rand.NewPCG(1, 2))
	err = d.InTx(ctx, func(q *queries.Queries) error {
		if _, err := q.CreateUser(ctx, queries.CreateUserParams{Username: "auditor", PasswordHash: "-", CreatedAt: benchStart, UpdatedAt: benchStart}); err != nil {
			return err
		}
		for i := range 20 {
			pr, err := q.CreateProject(ctx, queries.CreateProjectParams{Name: fmt.Sprintf("project-%02d", i), CreatedAt: benchStart, UpdatedAt: benchStart})
			if err != nil {
				return err
			}
			if i%4 == 0 {
				err = q.UpsertProjectMember(ctx, queries.UpsertProjectMemberParams{ProjectID: pr.ID, UserID: 1, Permissions: string(access.AuditView), UpdatedAt: benchStart})
				if err != nil {
					return err
				}
			}
		}
		for i := range benchEntries {
			e := audit.Entry{Actor: fmt.Sprintf("user-%02d", rng.IntN(40)), Via: "web", Action: benchActions[rng.IntN(len(benchActions))],
				SourceAddr: fmt.Sprintf("10.0.%d.%d", rng.IntN(4), rng.IntN(250)), Outcome: audit.Success, Detail: "benchmark entry"}
			if e.Action != "auth.login" { // sign-ins belong to no project
				e.Project = fmt.Sprintf("project-%02d", rng.IntN(20))
				e.Object = fmt.Sprintf("key/k-%d", rng.IntN(500))
				e.Environment = []string{"development", "test", "production"}[rng.IntN(3)]
			}
			if err := log.Append(ctx, q, e); err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
			fc.Advance(5 * time.Minute)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed audit log: %w", err)
	}
	fmt.Fprintf(os.Stderr, "seeded %d audit entries in %s\n", benchEntries, time.Since(start).Round(time.Millisecond))
	return d.Checkpoint(ctx)
}

var (
	benchAdmin   = access.Principal{UserID: 99, Username: "root", Admin: true, Via: "web"}
	benchAuditor = access.Principal{UserID: 1, Username: "auditor", Via: "web"} // AUDIT:VIEW in 5 of 20 projects
	benchWeek    = audit.Filter{From: benchStart.AddDate(0, 0, 180), To: benchStart.AddDate(0, 0, 187)}
)

// benchQuery runs Query b.N times and fails unless it finds at least want
// entries.
func benchQuery(b *testing.B, p access.Principal, f audit.Filter, want int) {
	_, log := benchLog(b)
	ctx := context.Background()
	for b.Loop() {
		page, err := log.Query(ctx, p, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Entries) < want {
			b.Fatalf("%d entries, want at least %d", len(page.Entries), want)
		}
	}
}

// BenchmarkAuditBaselineSelect1 is the floor every figure is compared to: a
// round trip through database/sql and the driver on the same file.
func BenchmarkAuditBaselineSelect1(b *testing.B) {
	d, _ := benchLog(b)
	ctx := context.Background()
	for b.Loop() {
		var one int
		if err := d.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuditFirstPage(b *testing.B) {
	b.Run("admin", func(b *testing.B) { benchQuery(b, benchAdmin, audit.Filter{Page: 1, Size: 50}, 50) })
	b.Run("auditor-5-projects", func(b *testing.B) { benchQuery(b, benchAuditor, audit.Filter{Page: 1, Size: 50}, 50) })
	b.Run("admin-page-100", func(b *testing.B) { benchQuery(b, benchAdmin, audit.Filter{Page: 100, Size: 50}, 50) })
}

func BenchmarkAuditFilteredPage(b *testing.B) {
	b.Run("project+action", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Project: "project-07", Action: "key.deploy", Page: 1, Size: 50}, 50)
	})
	b.Run("date-range", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{From: benchWeek.From, To: benchWeek.To, Page: 1, Size: 50}, 50)
	})
	b.Run("project+date-range", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Project: "project-07", From: benchWeek.From, To: benchWeek.To, Page: 1, Size: 50}, 50)
	})
	b.Run("auditor+action-prefix", func(b *testing.B) {
		benchQuery(b, benchAuditor, audit.Filter{Action: "certificate.", Page: 1, Size: 50}, 50)
	})
	b.Run("actor+date-range", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Actor: "user-07", From: benchWeek.From, To: benchWeek.To, Page: 1, Size: 50}, 1)
	})
	// The worst cases: few or no matches, so no early stop at 50 rows.
	b.Run("worst/object-absent", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Object: "key/none", Page: 1, Size: 50}, 0)
	})
	b.Run("worst/object", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Object: "key/k-7", Page: 1, Size: 50}, 50)
	})
	b.Run("worst/project+action-absent", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Project: "project-07", Action: "auth.login", Page: 1, Size: 50}, 0)
	})
	b.Run("worst/action-prefix", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Action: "key.", Page: 1, Size: 50}, 50)
	})
	b.Run("worst/date-range-30-days", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{From: benchWeek.From, To: benchWeek.From.AddDate(0, 0, 30), Page: 1, Size: 50}, 50)
	})
	b.Run("worst/date-range-everything", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{From: benchStart, Page: 1, Size: 50}, 50)
	})
	b.Run("worst/project+first-week", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Project: "project-07", From: benchStart, To: benchStart.AddDate(0, 0, 7), Page: 1, Size: 50}, 50)
	})
	b.Run("worst/actor+first-week", func(b *testing.B) {
		benchQuery(b, benchAdmin, audit.Filter{Actor: "user-07", From: benchStart, To: benchStart.AddDate(0, 0, 7), Page: 1, Size: 50}, 1)
	})
	b.Run("worst/auditor+first-week", func(b *testing.B) {
		benchQuery(b, benchAuditor, audit.Filter{From: benchStart, To: benchStart.AddDate(0, 0, 7), Page: 1, Size: 50}, 50)
	})
}

// BenchmarkAuditVerify checks the whole chain of benchEntries entries, what
// the admin's "Verify integrity" button costs.
func BenchmarkAuditVerify(b *testing.B) {
	_, log := benchLog(b)
	ctx := context.Background()
	for b.Loop() {
		res, err := log.Verify(ctx)
		if err != nil || !res.Intact() || res.Entries != benchEntries {
			b.Fatalf("%+v, %v", res, err)
		}
	}
}
