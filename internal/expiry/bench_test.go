package expiry_test

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
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/internal/truststore"
)

// The benchmarks read an expiries table of benchRows rows in a real SQLite
// file, seeded once per test binary (issue 10: "the overview over 100,000
// objects with an end date, first page and the within=30d filter, under
// 50 ms"). The instance is made through the services: 20 projects, 4
// environments, 12 users, a member ("viewer") of 5 of the projects with
// different VIEW permissions, and a few real objects of their own (a
// certificate, a truststore CA, personal and gateway tokens), whose rows the
// triggers write. The bulk is plain INSERTs into expiries in one
// transaction: every type, ends spread evenly over two years either side of
// the clock, projects, environments and users referencing real rows. Run:
//
//	go test -run XXX -bench . -benchtime 20x ./internal/expiry/
const benchRows = 100_000

var (
	benchNow  = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // testenv's clock
	benchSeed struct {
		once   sync.Once
		dir    string
		err    error
		admin  access.Principal
		viewer access.Principal
	}
	benchAreas = map[expiry.Type]string{expiry.Certificate: "SECRETS", expiry.TruststoreCA: "", expiry.SignerRotation: "SIGNING_KEYS",
		expiry.KeySetExpiry: "KEY_SETS", expiry.KeySetRotation: "KEY_SETS", expiry.APIToken: "", expiry.GatewayToken: "ADMIN"}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSeed.dir != "" {
		os.RemoveAll(benchSeed.dir)
	}
	os.Exit(code)
}

// benchService opens the seeded database (seeding it on first use) and
// returns the Service on it, with the clock at benchNow.
func benchService(b *testing.B) (*db.DB, *expiry.Service) {
	b.Helper()
	ctx := context.Background()
	benchSeed.once.Do(func() {
		benchSeed.dir, benchSeed.err = os.MkdirTemp("", "keyward-expiry-bench-")
		if benchSeed.err == nil {
			benchSeed.err = seedBench(b, benchSeed.dir)
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
	return d, expiry.NewService(d, clock.NewFake(benchNow))
}

// seedBench makes the instance in dir through the services, then adds the
// bulk rows.
func seedBench(b *testing.B, dir string) error {
	start := time.Now()
	ctx := context.Background()
	env := testenv.NewAt(b, dir)
	env.CreateUser("root", true)
	env.CreateUser("viewer", false)
	for i := range 10 {
		env.CreateUser(fmt.Sprintf("user-%02d", i), false)
	}
	root := env.Principal("root")
	envNames := []string{"development", "test", "staging", "production"}
	for _, e := range envNames {
		if _, err := env.App.Environments.Create(ctx, root, environments.Input{Name: e}); err != nil {
			return err
		}
	}
	for i := range 20 {
		if _, err := env.App.Projects.Create(ctx, root, fmt.Sprintf("project-%02d", i), ""); err != nil {
			return err
		}
	}
	// viewer: different VIEW permissions in 5 of the 20 projects, none in
	// the others.
	env.Grant("project-00", "viewer", access.SecretsView, access.SigningKeysView, access.KeySetsView)
	env.Grant("project-04", "viewer", access.SecretsView)
	env.Grant("project-08", "viewer", access.SigningKeysView)
	env.Grant("project-12", "viewer", access.KeySetsView, access.SecretsView)
	env.Grant("project-16", "viewer", access.AuditView) // a member who sees none of the areas here

	// A few real objects, so that the rows the triggers write sit beside the
	// bulk: a certificate, a truststore CA, personal tokens and a gateway
	// token.
	leaf := certtest.NewChain(b, certtest.Options{CommonName: "edge.example.com", DNSNames: []string{"edge.example.com"}, Now: benchNow.Add(-70 * 24 * time.Hour)})
	if _, err := env.App.Secrets.CreateCertificate(ctx, root, "project-00", secrets.CertificateInput{Name: "edge-tls",
		Configs: []secrets.CertConfigInput{{Environment: "production", Source: "FILE", FileName: "edge.pem", Content: certtest.PEM(leaf.Leaf, leaf.Intermediate)}}}, false); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	ca := certtest.NewChain(b, certtest.Options{Now: benchNow})
	caCert := certtest.Issue(b, certtest.CATemplate("Partner Root CA", benchNow.Add(-time.Hour), benchNow.Add(20*24*time.Hour)), nil, ca.RootKey, ca.RootKey.Public())
	if _, _, err := env.App.Truststores.Add(ctx, root, "development", truststore.AddInput{Cert: certs.Input{Content: certtest.PEM(caCert), FileName: "ca.pem"},
		Alias: "partner-root", Source: "API"}); err != nil {
		return fmt.Errorf("truststore: %w", err)
	}
	for _, u := range []string{"viewer", "user-00", "user-01"} {
		if _, err := env.App.Auth.CreateToken(ctx, env.Principal(u), "", u+"-ci", 10*24*time.Hour); err != nil {
			return err
		}
	}
	if _, err := env.App.Environments.CreateGatewayToken(ctx, root, "production", "edge-gw", 100*24*time.Hour); err != nil {
		return err
	}

	// The bulk.
	tx, err := env.App.DB.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ids := func(query string) ([]int64, error) {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	projectIDs, err := ids("SELECT id FROM projects ORDER BY id")
	if err != nil {
		return err
	}
	envIDs, err := ids("SELECT id FROM environments ORDER BY id")
	if err != nil {
		return err
	}
	userIDs, err := ids("SELECT id FROM users ORDER BY id")
	if err != nil {
		return err
	}
	if len(projectIDs) != 20 || len(envIDs) != 4 || len(userIDs) != 12 {
		return fmt.Errorf("seed: %d projects, %d environments, %d users", len(projectIDs), len(envIDs), len(userIDs))
	}
	ins, err := tx.PrepareContext(ctx, "INSERT INTO expiries (type, source_id, area, project_id, environment_id, user_id, name, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer ins.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	span := int64(4 * 365 * 24 * time.Hour)
	for i := range benchRows {
		t := expiry.Types[i%len(expiry.Types)]
		at := benchNow.Add(-2 * 365 * 24 * time.Hour).Add(time.Duration(rng.Int64N(span))).Truncate(time.Second)
		var project, environment, user any
		name, detail := fmt.Sprintf("%s-%06d", t, i), ""
		switch t {
		case expiry.Certificate, expiry.KeySetExpiry, expiry.KeySetRotation:
			project, environment = projectIDs[rng.IntN(len(projectIDs))], envIDs[rng.IntN(len(envIDs))]
			detail = "CN=" + name + ".example.com"
		case expiry.SignerRotation:
			project, detail = projectIDs[rng.IntN(len(projectIDs))], "activate key-b (0a1b2c)"
		case expiry.TruststoreCA, expiry.GatewayToken:
			environment = envIDs[rng.IntN(len(envIDs))]
		case expiry.APIToken:
			u := rng.IntN(len(userIDs))
			user, detail = userIDs[u], fmt.Sprintf("user-%d", u)
		}
		if _, err := ins.ExecContext(ctx, string(t), 1_000_000+i, benchAreas[t], project, environment, user, name, detail, at); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	benchSeed.admin, benchSeed.viewer = root, env.Principal("viewer")
	var n int
	if err := env.App.DB.Read.QueryRowContext(ctx, "SELECT count(*) FROM expiries").Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %d expiries in %s\n", n, time.Since(start).Round(time.Millisecond))
	return env.App.DB.Checkpoint(ctx)
}

// benchList runs List b.N times and fails unless the page holds at least
// want items.
func benchList(b *testing.B, p func() access.Principal, f expiry.Filter, want int) {
	_, svc := benchService(b)
	ctx := context.Background()
	pr := p()
	var total int64
	for b.Loop() {
		page, err := svc.List(ctx, pr, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Items) < want {
			b.Fatalf("%d items, want at least %d", len(page.Items), want)
		}
		total = page.Total
	}
	b.ReportMetric(float64(total), "total")
}

func admin() access.Principal  { return benchSeed.admin }
func viewer() access.Principal { return benchSeed.viewer }

// BenchmarkExpiryBaselineSelect1 is the floor the figures are compared to:
// a round trip through database/sql and the driver on the same file.
func BenchmarkExpiryBaselineSelect1(b *testing.B) {
	d, _ := benchService(b)
	ctx := context.Background()
	for b.Loop() {
		var one int
		if err := d.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExpiryList(b *testing.B) {
	within := 30 * 24 * time.Hour
	b.Run("admin/first-page", func(b *testing.B) { benchList(b, admin, expiry.Filter{}, 50) })
	b.Run("admin/within-30d", func(b *testing.B) { benchList(b, admin, expiry.Filter{Within: within}, 50) })
	b.Run("member/first-page", func(b *testing.B) { benchList(b, viewer, expiry.Filter{}, 50) })
	b.Run("member/within-30d", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Within: within}, 50) })
	b.Run("member/project", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Project: "project-12"}, 50) })
	b.Run("member/project+within-30d", func(b *testing.B) {
		benchList(b, viewer, expiry.Filter{Project: "project-12", Within: within}, 50)
	})
	b.Run("admin/project", func(b *testing.B) { benchList(b, admin, expiry.Filter{Project: "project-07"}, 50) })
	b.Run("admin/type", func(b *testing.B) { benchList(b, admin, expiry.Filter{Type: expiry.SignerRotation}, 50) })
	b.Run("member/type", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Type: expiry.Certificate}, 50) })
	b.Run("admin/environment", func(b *testing.B) { benchList(b, admin, expiry.Filter{Environment: "staging"}, 50) })
	b.Run("member/environment", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Environment: "staging"}, 50) })
	b.Run("admin/sort-name", func(b *testing.B) { benchList(b, admin, expiry.Filter{Sort: "name"}, 50) })
	b.Run("member/sort-name", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Sort: "name"}, 50) })
	b.Run("admin/sort-project", func(b *testing.B) { benchList(b, admin, expiry.Filter{Sort: "project"}, 50) })
	b.Run("member/sort-environment", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Sort: "environment"}, 50) })
	b.Run("admin/page-100", func(b *testing.B) { benchList(b, admin, expiry.Filter{Page: 100}, 50) })
	b.Run("member/page-100", func(b *testing.B) { benchList(b, viewer, expiry.Filter{Page: 100}, 50) })
}

// BenchmarkExpiryCSV is the download: Each over everything ending within 30
// days (about half the rows: the past ends count too).
func BenchmarkExpiryCSV(b *testing.B) {
	f := expiry.Filter{Within: 30 * 24 * time.Hour}
	for _, c := range []struct {
		name string
		p    func() access.Principal
	}{{"admin/within-30d", admin}, {"member/within-30d", viewer}} {
		b.Run(c.name, func(b *testing.B) {
			_, svc := benchService(b)
			ctx := context.Background()
			pr := c.p()
			var n int
			for b.Loop() {
				n = 0
				if err := svc.Each(ctx, pr, f, func(expiry.Item) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "rows")
		})
	}
}

// BenchmarkExpiryCount is the dashboard's counts.
func BenchmarkExpiryCount(b *testing.B) {
	for _, c := range []struct {
		name string
		p    func() access.Principal
	}{{"admin", admin}, {"member", viewer}} {
		b.Run(c.name, func(b *testing.B) {
			_, svc := benchService(b)
			ctx := context.Background()
			pr := c.p()
			for b.Loop() {
				if _, err := svc.Count(ctx, pr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
