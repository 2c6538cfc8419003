package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/internal/config"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/internal/testenv"
)

// BenchmarkSignEndpoint measures POST .../signingKeys/{ckaId}/sign (token
// check, permission check, claims, go-jose, the HSM, and the audit entry
// every signature writes) against raw signing with the same key's
// crypto.Signer on SoftHSM2, at 1 and 2 concurrent clients, in the same
// run. docs/benchmarks.md records the ratios. Run:
//
//	go test -run '^$' -bench SignEndpoint -benchtime 2000x .
func BenchmarkSignEndpoint(b *testing.B) {
	module := softHSMTokenB(b, "keyward-bench", "5678")
	env := testenv.NewWith(b, b.TempDir(), func(c *config.Config) {
		c.HSMModule, c.HSMTokenLabel, c.HSMPIN, c.HSMMaxSessions = module, "keyward-bench", "5678", 8
	})
	env.CreateUser("root", true)
	token := env.Token("root")
	ctx := context.Background()
	root := env.Principal("root")
	if _, err := env.App.Projects.Create(ctx, root, "payments", ""); err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		alg string
		in  signing.CreateInput
	}{
		{"RS256", signing.CreateInput{Label: "rsa", Algorithm: "RSA", KeyLength: 2048}},
		{"ES256", signing.CreateInput{Label: "ec", Algorithm: "ECDSA"}},
	} {
		key, err := env.App.Signing.CreateKey(ctx, root, "payments", k.in)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := hex.DecodeString(key.CkaID)
		signer, err := env.App.KeyManager.Signer(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"claims": map[string]any{"sub": "bench", "aud": "payments"}, "alg": k.alg})
		path := "/apiops/projects/payments/signingKeys/" + key.CkaID + "/sign"
		for _, clients := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/raw/clients=%d", k.alg, clients), func(b *testing.B) {
				digest := sha256.Sum256(body)
				parallel(b, clients, func() error {
					_, err := signer.Sign(nil, digest[:], crypto.SHA256)
					return err
				})
			})
			b.Run(fmt.Sprintf("%s/endpoint/clients=%d", k.alg, clients), func(b *testing.B) {
				parallel(b, clients, func() error {
					// http.NewRequest, not httptest.NewRequest: the latter parses a
					// request text through a new bufio.Reader each time (4 KB),
					// the client's cost, which a server on a keep-alive
					// connection does not pay per request.
					req, _ := http.NewRequest(http.MethodPost, "http://keyward.test"+path, bytes.NewReader(body))
					req.RemoteAddr = "192.0.2.1:1234"
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					env.Echo.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						return fmt.Errorf("sign: %d %s", rec.Code, rec.Body)
					}
					return nil
				})
			})
		}
	}
}

// parallel runs b.N calls of f over n goroutines and reports calls/s.
func parallel(b *testing.B, n int, f func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := f(); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
}
