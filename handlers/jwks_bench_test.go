package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// BenchmarkJWKSUnderLoad measures GET /jwks/{project}/{environment} through
// a real HTTP server on loopback, with 16 parallel keep-alive clients,
// against a trivial handler registered on the same Echo instance (so it
// passes the same middleware) that answers the same bytes from a constant.
// The machine is shared and its speed drifts, so the two alternate in
// rounds of 200 requests within one benchmark; each op is one request to
// each. It reports each one's requests per second and "of-trivial", the
// JWKS throughput as a fraction of the trivial one's (the target is
// 0.70 or more). Run:
//
//	go test -run XXX -bench JWKSUnderLoad -benchtime 20000x -count 5 ./handlers/
func BenchmarkJWKSUnderLoad(b *testing.B) {
	w := newSecretsWorld(b)
	m := testKeys()
	for i, k := range []any{m.rsaA, m.rsaB, m.ec} {
		name := fmt.Sprintf("signer-%d", i)
		w.must(w.root, http.MethodPost, keysPath, keyBody(name, "PRIVATE_KEY", "", keyConfig("production", privatePEM(b, k), "")))
		alg := "RS256"
		if i == 2 {
			alg = "ES256"
		}
		w.must(w.root, http.MethodPost, jwksPath, jwkBody(name+"-jwk", name, "sig", alg, "", "production"))
	}
	set, ok := w.env.App.JWKS.Get("payments", "production")
	if !ok {
		b.Fatal("the JWKS is not cached")
	}
	body := set.Body
	w.env.Echo.GET("/bench/trivial", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/jwk-set+json", body)
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()

	const clients, round = 16, 200
	// load sends n requests from the clients in parallel and returns the
	// wall time they took.
	load := func(path string, header http.Header, want, n int) time.Duration {
		url := w.env.URL(path)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					for k, v := range header {
						req.Header[k] = v
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != want {
						b.Errorf("GET %s: %d", path, resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	series := []struct {
		name, path string
		header     http.Header
		want       int
		took       time.Duration
	}{
		{name: "trivial", path: "/bench/trivial", want: http.StatusOK},
		{name: "jwks", path: "/jwks/payments/production", want: http.StatusOK},
		{name: "jwks-304", path: "/jwks/payments/production", header: http.Header{"If-None-Match": {set.ETag}}, want: http.StatusNotModified},
	}
	for i := range series {
		load(series[i].path, series[i].header, series[i].want, clients*4) // open the connections
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		for i := range series {
			series[i].took += load(series[i].path, series[i].header, series[i].want, n)
		}
	}
	b.StopTimer()
	for _, s := range series {
		b.ReportMetric(float64(b.N)/s.took.Seconds(), s.name+"-req/s")
	}
	b.ReportMetric(series[0].took.Seconds()/series[1].took.Seconds(), "of-trivial")
}

// BenchmarkAPIKeyCreate creates keys one after another through the REST
// API: a 32-byte AES key deployed to one environment, so each op is the
// HTTP request, token check, validation, sealing (twice: the material and
// its deployed copy), the transaction with the deployment record and three
// audit entries, and the JSON answer. The target is 200 keys/s. Run:
//
//	go test -run XXX -bench APIKeyCreate -benchtime 2000x -count 3 ./handlers/
func BenchmarkAPIKeyCreate(b *testing.B) {
	w := newSecretsWorld(b)
	content := secretBytes(32, 1)
	i := 0
	for b.Loop() {
		i++
		r := w.env.API(w.dora, http.MethodPost, keysPath, keyBody(fmt.Sprintf("key-%d", i), "SECRET_KEY", "", keyConfig("production", content, "")))
		if r.Status != http.StatusOK {
			b.Fatalf("create key: %d %s", r.Status, r.Raw)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}
