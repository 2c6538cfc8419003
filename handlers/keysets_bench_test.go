package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/keysets/credential"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/labstack/echo/v4"
)

// keySetBench is an instance holding 100,000 ACTIVE API keys in
// environment test and 10,000 key sets of other statuses and types in
// production, seeded with bulk inserts in one transaction.
type keySetBench struct {
	env     *testenv.Env
	keys    []string
	gateway string
}

const benchActive, benchOthers = 100_000, 10_000

func seedKeySets(b *testing.B) *keySetBench {
	b.Helper()
	env := testenv.New(b)
	env.CreateUser("root", true)
	ctx, root := context.Background(), env.Principal("root")
	ks := env.App.KeySets
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err := env.App.Projects.Create(ctx, root, "payments", "")
	must(err)
	for _, e := range []string{"test", "production"} {
		_, err := env.App.Environments.Create(ctx, root, environments.Input{Name: e})
		must(err)
	}
	tok, err := env.App.Environments.CreateGatewayToken(ctx, root, "test", "bench", 0)
	must(err)
	_, err = ks.CreatePolicy(ctx, root, "payments", keysets.PolicyInput{Name: "standard", Expiration: "400d"})
	must(err)
	for o := range 10 {
		_, err := ks.CreateOrganization(ctx, root, "payments", fmt.Sprintf("org-%d", o), "")
		must(err)
		_, err = ks.CreateGroup(ctx, root, "payments", fmt.Sprintf("org-%d", o), "mobile")
		must(err)
	}
	for a := range 100 {
		in := keysets.ApplicationInput{Name: fmt.Sprintf("app-%d", a), Organization: fmt.Sprintf("org-%d", a%10)}
		if a%2 == 0 {
			in.Group = "mobile"
		}
		_, err := ks.CreateApplication(ctx, root, "payments", in)
		must(err)
	}
	for i := range 10 {
		_, err := ks.CreateAPI(ctx, root, "payments", keysets.APIInput{Name: fmt.Sprintf("api-%d", i), Environments: []string{"test", "production"},
			AuthTypes: keysets.AuthTypes, PolicyTemplate: "standard"})
		must(err)
	}
	w := &keySetBench{env: env, gateway: tok.Value}
	start := time.Now()
	tx, err := env.App.DB.Write.BeginTx(ctx, nil)
	must(err)
	q := func(query string, args ...any) int64 {
		r, err := tx.ExecContext(ctx, query, args...)
		must(err)
		id, _ := r.LastInsertId()
		return id
	}
	one := func(query string, args ...any) int64 {
		var id int64
		must(tx.QueryRowContext(ctx, query, args...).Scan(&id))
		return id
	}
	project, policy := one("SELECT id FROM projects WHERE name = 'payments'"), one("SELECT id FROM policy_templates")
	envs := map[string]int64{"test": one("SELECT id FROM environments WHERE name = 'test'"), "production": one("SELECT id FROM environments WHERE name = 'production'")}
	apps := make([]int64, 100)
	for a := range apps {
		apps[a] = one("SELECT id FROM applications WHERE name = ?", fmt.Sprintf("app-%d", a))
	}
	subs := map[[2]int64]int64{}
	for a, app := range apps {
		for _, e := range envs {
			api := one("SELECT id FROM apis WHERE name = ?", fmt.Sprintf("api-%d", a%10))
			subs[[2]int64{app, e}] = q("INSERT INTO subscriptions (project_id, application_id, api_id, environment_id, created_by, created_at) VALUES (?, ?, ?, ?, 'bench', ?)",
				project, app, api, e, time.Now().UTC())
		}
	}
	now := env.Clock.Now()
	sealed := []byte{0}
	statuses := []string{keysets.Suspended, keysets.Revoked, keysets.Expired, keysets.Pending}
	for i := range benchActive + benchOthers {
		app := apps[i%100]
		env, status, authType := envs["test"], keysets.Active, keysets.APIKey
		if i >= benchActive {
			env, status = envs["production"], statuses[i%4]
			if i%2 == 0 {
				authType = keysets.ClientCredentials
			}
		}
		created := now.Add(-time.Duration(i) * time.Minute)
		expires := now.Add(time.Duration(1+i%365) * 24 * time.Hour)
		id := q(`INSERT INTO key_sets (project_id, name, application_id, environment_id, auth_type, policy_template_id, status, expires_at, deployed_revision, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, project, fmt.Sprintf("%s-app-%d-%d", authType, i%100, i), app, env, authType, policy, status, expires, created, created)
		q("INSERT INTO key_set_subscriptions (key_set_id, subscription_id) VALUES (?, ?)", id, subs[[2]int64{app, env}])
		value := credential.New(credential.APIKey)
		var secret []byte
		if authType == keysets.ClientCredentials {
			value = credential.New(credential.ClientID)
			h := sha256.Sum256([]byte(credential.New(credential.ClientSecret)))
			secret = h[:]
		}
		h := sha256.Sum256([]byte(value))
		q(`INSERT INTO key_set_keys (key_set_id, seq, value_hash, secret_hash, sealed, display, status, created_at, activated_at, expires_at)
			VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`, id, h[:], secret, sealed, credential.Display(value), status, created, created, expires)
		if i < benchActive {
			w.keys = append(w.keys, value)
		}
	}
	must(tx.Commit())
	must(ks.Start(ctx)) // rebuild the verify index from the seeded rows
	b.Logf("seeded %d key sets in %s; verify index: %d keys", benchActive+benchOthers, time.Since(start).Round(time.Millisecond), env.App.KeySets.IndexSize())
	return w
}

var (
	keySetBenchOnce sync.Once
	keySetBenchData *keySetBench
)

// BenchmarkKeySetVerify measures POST .../credentials/verify with 100,000
// active credentials under parallel load over loopback HTTP, against GET
// /healthz on the same server, and the service call alone; it reports the
// p99 of each request's time. docs/benchmarks.md records the figures. Run:
//
//	go test -run '^$' -bench KeySetVerify -benchtime 20000x ./handlers/
func BenchmarkKeySetVerify(b *testing.B) {
	w := seedKeySets(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, req func(r *rand.Rand) *http.Request, want string) {
		var mu sync.Mutex
		var lat []time.Duration
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(rand.Uint64(), 1))
			var mine []time.Duration
			for pb.Next() {
				t0 := time.Now()
				resp, err := client.Do(req(r))
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(want)) {
					b.Errorf("%d %s", resp.StatusCode, body)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		b.StopTimer()
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		}
	}
	// The bodies are made before the clock runs, so that the client's JSON
	// work is not counted against the server.
	bodies := make([][]byte, 10000)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]string{"key": w.keys[rand.IntN(len(w.keys))]})
	}
	// The trivial handler takes the same request (a POST with the same
	// body and token header) through the same middleware and answers a
	// constant: only the verify work differs.
	trivialAnswer := []byte(`{"valid":true,"code":"VALID"}`)
	w.env.Echo.POST("/bench/trivial", func(c echo.Context) error {
		io.Copy(io.Discard, c.Request().Body)
		return c.JSONBlob(http.StatusOK, trivialAnswer)
	})
	b.Run("trivial_healthz", func(b *testing.B) {
		run(b, func(*rand.Rand) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, w.env.URL("/healthz"), nil)
			return req
		}, `"ok"`)
	})
	b.Run("trivial_post", func(b *testing.B) {
		run(b, func(r *rand.Rand) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, w.env.URL("/bench/trivial"), bytes.NewReader(bodies[r.IntN(len(bodies))]))
			req.Header.Set("Authorization", "Bearer "+w.gateway)
			req.Header.Set("Content-Type", "application/json")
			return req
		}, `"VALID"`)
	})
	b.Run("verify", func(b *testing.B) {
		run(b, func(r *rand.Rand) *http.Request {
			body := bodies[r.IntN(len(bodies))]
			req, _ := http.NewRequest(http.MethodPost, w.env.URL("/apiops/environments/test/credentials/verify"), bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+w.gateway)
			req.Header.Set("Content-Type", "application/json")
			return req
		}, `"VALID"`)
	})
	// The server's own time per verify (service time): the whole Echo
	// stack, gateway token, JSON and the index, without the network.
	b.Run("handler", func(b *testing.B) {
		var mu sync.Mutex
		var lat []time.Duration
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(rand.Uint64(), 3))
			var mine []time.Duration
			for pb.Next() {
				body, _ := json.Marshal(map[string]string{"key": w.keys[r.IntN(len(w.keys))]})
				req := httptest.NewRequest(http.MethodPost, "/apiops/environments/test/credentials/verify", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+w.gateway)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				t0 := time.Now()
				w.env.Echo.ServeHTTP(rec, req)
				mine = append(mine, time.Since(t0))
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"VALID"`)) {
					b.Errorf("%d %s", rec.Code, rec.Body)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		b.StopTimer()
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		}
	})
	b.Run("service", func(b *testing.B) {
		p, _ := w.env.App.Environments.AuthenticateGateway(context.Background(), w.gateway, "127.0.0.1")
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(rand.Uint64(), 2))
			for pb.Next() {
				v, err := w.env.App.KeySets.Verify(context.Background(), p, "test", keysets.VerifyInput{Key: w.keys[r.IntN(len(w.keys))]})
				if err != nil || !v.Valid {
					b.Fatal(v.Code, err)
				}
			}
		})
	})
}

// BenchmarkKeySetList measures the key set list's first page over 110,000
// key sets, unfiltered and with each filter, through Service.List. Run:
//
//	go test -run '^$' -bench KeySetList -benchtime 50x ./handlers/
func BenchmarkKeySetList(b *testing.B) {
	w := seedKeySets(b)
	ctx, root := context.Background(), w.env.Principal("root")
	now := w.env.Clock.Now()
	for _, c := range []struct {
		name string
		f    keysets.Filter
	}{
		{"first-page", keysets.Filter{}},
		{"page-100", keysets.Filter{Page: 100}},
		{"status=SUSPENDED", keysets.Filter{Status: keysets.Suspended}},
		{"authType=CLIENT_CREDENTIALS", keysets.Filter{AuthType: keysets.ClientCredentials}},
		{"api=api-3", keysets.Filter{API: "api-3"}},
		{"environment=production", keysets.Filter{Environment: "production"}},
		{"organization=org-3", keysets.Filter{Organization: "org-3"}},
		{"organization+group", keysets.Filter{Organization: "org-2", Group: "mobile"}},
		{"expires-7-days", keysets.Filter{ExpiresFrom: now.Add(100 * 24 * time.Hour), ExpiresTo: now.Add(107 * 24 * time.Hour)}},
		{"created-7-days", keysets.Filter{CreatedFrom: now.Add(-30 * 24 * time.Hour), CreatedTo: now.Add(-23 * 24 * time.Hour)}},
		{"search=app-42-", keysets.Filter{Search: "app-42-"}},
		{"search-absent", keysets.Filter{Search: "nothing-matches"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := w.env.App.KeySets.List(ctx, root, "payments", c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("baseline-select-1", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := w.env.App.DB.Read.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil && err != sql.ErrNoRows {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkKeySetScheduler measures the scheduler applying 10,000 due
// events (5,000 rotations, which issue and seal a new key, and 5,000
// expirations), each in its own transaction with its timeline event, audit
// entry and deploy, through Service.RunDue after the clock passes them; it
// reports events per second. Run:
//
//	go test -run '^$' -bench KeySetScheduler -benchtime 1x -count 3 ./handlers/
func BenchmarkKeySetScheduler(b *testing.B) {
	const events = 10_000
	for range b.N {
		b.StopTimer()
		env := testenv.New(b)
		env.CreateUser("root", true)
		ctx, root := context.Background(), env.Principal("root")
		ks := env.App.KeySets
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		_, err := env.App.Projects.Create(ctx, root, "payments", "")
		must(err)
		_, err = env.App.Environments.Create(ctx, root, environments.Input{Name: "test"})
		must(err)
		_, err = ks.CreatePolicy(ctx, root, "payments", keysets.PolicyInput{Name: "rotating", Expiration: "400d", Rotation: "30d"})
		must(err)
		_, err = ks.CreateOrganization(ctx, root, "payments", "acme", "")
		must(err)
		_, err = ks.CreateApplication(ctx, root, "payments", keysets.ApplicationInput{Name: "shop", Organization: "acme"})
		must(err)
		tx, err := env.App.DB.Write.BeginTx(ctx, nil)
		must(err)
		one := func(query string, args ...any) int64 {
			var id int64
			must(tx.QueryRowContext(ctx, query, args...).Scan(&id))
			return id
		}
		exec := func(query string, args ...any) int64 {
			r, err := tx.ExecContext(ctx, query, args...)
			must(err)
			id, _ := r.LastInsertId()
			return id
		}
		project, policy, app, envID := one("SELECT id FROM projects"), one("SELECT id FROM policy_templates"), one("SELECT id FROM applications"), one("SELECT id FROM environments")
		now := env.Clock.Now()
		due := now.Add(time.Hour)
		for i := range events {
			kind, expires, rotation := keysets.EventRotation, now.Add(400*24*time.Hour), sql.NullTime{Time: due, Valid: true}
			if i%2 == 1 {
				kind, expires, rotation = keysets.EventExpiration, due, sql.NullTime{}
			}
			id := exec(`INSERT INTO key_sets (project_id, name, application_id, environment_id, auth_type, policy_template_id, status, expires_at, next_rotation_at, deployed_revision, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'API_KEY', ?, 'ACTIVE', ?, ?, 1, ?, ?)`, project, fmt.Sprintf("API_KEY-shop-%d", i), app, envID, policy, expires, rotation, now, now)
			value := credential.New(credential.APIKey)
			h := sha256.Sum256([]byte(value))
			exec(`INSERT INTO key_set_keys (key_set_id, seq, value_hash, sealed, display, status, created_at, activated_at, expires_at)
				VALUES (?, 1, ?, ?, ?, 'ACTIVE', ?, ?, ?)`, id, h[:], []byte{0}, credential.Display(value), now, now, expires)
			exec(`INSERT INTO key_set_events (key_set_id, key_seq, type, state, scheduled_at) VALUES (?, 1, ?, 'SCHEDULED', ?)`, id, kind, due)
		}
		must(tx.Commit())
		must(ks.Start(ctx))
		env.Clock.Advance(2 * time.Hour)
		b.StartTimer()
		t0 := time.Now()
		n, err := ks.RunDue(ctx)
		elapsed := time.Since(t0)
		b.StopTimer()
		must(err)
		if n != events {
			b.Fatalf("RunDue applied %d events, want %d", n, events)
		}
		var done, expired, rotated int
		must(env.App.DB.Read.QueryRow(`SELECT count(*) FROM key_set_events WHERE state = 'DONE' AND type IN ('ROTATION', 'EXPIRATION')`).Scan(&done))
		must(env.App.DB.Read.QueryRow(`SELECT count(*) FROM key_sets WHERE status = 'EXPIRED'`).Scan(&expired))
		must(env.App.DB.Read.QueryRow(`SELECT count(*) FROM key_set_keys WHERE seq = 2`).Scan(&rotated))
		if done != events || expired != events/2 || rotated != events/2 {
			b.Fatalf("after RunDue: %d events done, %d key sets expired, %d rotated", done, expired, rotated)
		}
		// A second run applies nothing.
		if again, err := ks.RunDue(ctx); err != nil || again != 0 {
			b.Fatalf("a second RunDue applied %d (%v)", again, err)
		}
		b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		b.StartTimer()
	}
}
