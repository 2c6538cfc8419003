//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/internal/hsm"
)

// BenchmarkSign measures raw signing on SoftHSM2 — crypto11 directly, and
// through the Manager's cached signer — at 1 and 2 concurrent goroutines,
// reporting signs/s: the baseline the sign endpoint's benchmark compares
// against (issue 8 records about 1,600/3,000 RS256 and 15,000/18,000 ES256
// signs per second at 1/2 goroutines on this machine).
//
//	go test -run '^$' -bench Sign -benchtime 2s ./internal/hsm/pkcs11/
func BenchmarkSign(b *testing.B) {
	m := openToken(b)
	ctx := context.Background()
	keys := []struct {
		alg string
		req hsm.GenerateRequest
	}{
		{"RS256", hsm.GenerateRequest{Label: "bench rsa", Algorithm: hsm.RSA, Bits: 2048}},
		{"ES256", hsm.GenerateRequest{Label: "bench ec", Algorithm: hsm.EC, Curve: hsm.CurveP256}},
	}
	for _, k := range keys {
		ki, err := m.Generate(ctx, k.req)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := m.find(ctx, ki.ID)
		if err != nil {
			b.Fatal(err)
		}
		cached, err := m.Signer(ctx, ki.ID)
		if err != nil {
			b.Fatal(err)
		}
		for _, via := range []struct {
			name string
			s    crypto.Signer
		}{{"crypto11", raw}, {"manager", cached}} {
			for _, goroutines := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/goroutines=%d", k.alg, via.name, goroutines), func(b *testing.B) {
					benchSign(b, via.s, goroutines)
				})
			}
		}
	}
}

// benchSign signs b.N SHA-256 digests spread over the goroutines.
func benchSign(b *testing.B, s crypto.Signer, goroutines int) {
	digest := sha256.Sum256([]byte(`{"sub":"bench"}`))
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	b.ResetTimer()
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := s.Sign(nil, digest[:], crypto.SHA256); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
}
