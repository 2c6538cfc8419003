package secrets_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/keyward/keyward/internal/secrets"
)

// BenchmarkCreateKey creates and deploys keys one after another through the
// service alone (no HTTP, no token check): a 32-byte AES key deployed to one
// environment. Compared with handlers' BenchmarkAPIKeyCreate it shows what
// the HTTP layer adds. Run:
//
//	go test -run XXX -bench CreateKey -benchtime 2000x -count 3 ./internal/secrets/
func BenchmarkCreateKey(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	content := make([]byte, 32)
	i := 0
	for b.Loop() {
		i++
		if _, err := w.svc.CreateKey(ctx, w.root, "payments", aesKey(fmt.Sprintf("key-%d", i), content, "production"), true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkJWKS is the service call behind every /jwks/ request: from
// memory for a pair that publishes JWKs, from the database (project and
// environment lookups) for a pair that publishes nothing yet.
func BenchmarkJWKS(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs",
		Configs: []secrets.ConfigInput{{Field: "configs[0]", Environment: "production", Content: rsaPEM(b)}}}, true); err != nil {
		b.Fatal(err)
	}
	if _, err := w.svc.CreateJWK(ctx, w.root, "payments", secrets.JWKInput{Name: "signer-jwk", SourceType: secrets.SourceKey,
		SourceName: "signer", Use: "sig", Alg: "RS256", Environments: []string{"production"}}, true); err != nil {
		b.Fatal(err)
	}
	for _, env := range []string{"production", "development"} {
		b.Run(map[string]string{"production": "published", "development": "empty"}[env], func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := w.svc.JWKS("payments", env); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
