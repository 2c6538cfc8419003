package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/queries"
)

// BenchmarkCertificateList measures the certificate list over 10,000
// certificates in one project (one configuration each, ends spread over
// two years, 1 in 50 expiring within 30 days): the first page and the
// expiresWithin filter, through the service and through the whole API
// request, against GET /healthz on the same server. The budget is 50 ms
// (docs/benchmarks.md). Run:
//
//	go test -run XXX -bench CertificateList -benchtime 200x ./handlers/
func BenchmarkCertificateList(b *testing.B) {
	env := testenv.New(b)
	env.CreateUser("root", true)
	token := env.Token("root")
	for _, r := range []testenv.APIResponse{
		env.API(token, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"}),
		env.API(token, http.MethodPost, "/apiops/environments/", map[string]string{"name": "production"}),
	} {
		if r.Status != http.StatusOK {
			b.Fatalf("setup: %d %s", r.Status, r.Raw)
		}
	}
	seedCertificates(b, env, 10_000)
	ctx := context.Background()
	root := env.Principal("root")
	b.Run("service/first-page", func(b *testing.B) {
		for b.Loop() {
			if p, err := env.App.Secrets.ListCertificates(ctx, root, "payments", secrets.CertificateFilter{Size: 50}); err != nil || len(p.Certificates) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("service/expiresWithin-30d", func(b *testing.B) {
		for b.Loop() {
			if p, err := env.App.Secrets.ListCertificates(ctx, root, "payments", secrets.CertificateFilter{Size: 50, ExpiresWithin: 30 * 24 * time.Hour}); err != nil || p.Total == 0 {
				b.Fatal(err, p.Total)
			}
		}
	})
	serve := func(b *testing.B, path, token string) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			env.Echo.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
		}
	}
	b.Run("GET_healthz", func(b *testing.B) { serve(b, "/healthz", "") })
	// The web page, over loopback HTTP with a signed-in session (goquery
	// parses each answer, as the tests do).
	web := env.Browser()
	web.Login("root")
	page := func(b *testing.B, path string) {
		for b.Loop() {
			if p := web.Get(path, true); p.Status != http.StatusOK {
				b.Fatalf("GET %s: %d", path, p.Status)
			}
		}
	}
	b.Run("web/first-page", func(b *testing.B) { page(b, "/projects/payments/certificates") })
	b.Run("web/expiring-30d", func(b *testing.B) { page(b, "/projects/payments/certificates?expiry=30") })
	b.Run("web/healthz", func(b *testing.B) { page(b, "/healthz") })
	b.Run("API/first-page", func(b *testing.B) { serve(b, "/apiops/projects/payments/certificates/", token) })
	b.Run("API/expiresWithin-30d", func(b *testing.B) { serve(b, "/apiops/projects/payments/certificates/?expiresWithin=30d", token) })
}

// seedCertificates inserts n certificates in one transaction (the rows a
// create would write, without parsing n files).
func seedCertificates(b *testing.B, env *testenv.Env, n int) {
	chain := newTestChain(b, "bench.example.com")
	ctx := context.Background()
	now := env.Clock.Now()
	err := env.App.DB.InTx(ctx, func(q *queries.Queries) error {
		pr, err := q.GetProjectByName(ctx, "payments")
		if err != nil {
			return err
		}
		env2, err := q.GetEnvironmentByName(ctx, "production")
		if err != nil {
			return err
		}
		for i := range n {
			c, err := q.CreateCertificate(ctx, queries.CreateCertificateParams{ProjectID: pr.ID, Name: fmt.Sprintf("cert-%05d", i), CreatedAt: now, UpdatedAt: now})
			if err != nil {
				return err
			}
			end := now.Add(time.Duration(i%730) * 24 * time.Hour).Add(-10 * 24 * time.Hour)
			if _, err := q.UpsertCertificateConfig(ctx, queries.UpsertCertificateConfigParams{CertificateID: c.ID, ProjectID: pr.ID,
				EnvironmentID: env2.ID, Source: "API", Alias: fmt.Sprintf("a%d", i), Der: chain.leaf.Raw,
				Subject: fmt.Sprintf("CN=host-%d.example.com", i), Issuer: "CN=Test Intermediate CA", Serial: fmt.Sprint(i),
				NotBefore: now.AddDate(-1, 0, 0), NotAfter: end, Sha1: "00", Sha256: fmt.Sprintf("%064d", i), CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
