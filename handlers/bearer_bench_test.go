package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keyward/keyward/internal/auth"
	"github.com/keyward/keyward/internal/testenv"
)

// BenchmarkBearerAuth measures what authenticating a Personal API Access
// Token costs each API request: the service call alone, and a whole request
// through the Echo stack (middleware, authentication, one read, JSON)
// against GET /healthz, which skips authentication and the database. Run:
//
//	go test -run XXX -bench BearerAuth -benchtime 2000x ./handlers/
func BenchmarkBearerAuth(b *testing.B) {
	env := testenv.New(b)
	env.CreateUser("root", true)
	token := env.Token("root")
	for _, name := range []string{"payments", "billing", "identity"} {
		if r := env.API(token, http.MethodPost, "/apiops/projects/", map[string]string{"name": name}); r.Status != http.StatusOK {
			b.Fatalf("create project: %d %s", r.Status, r.Raw)
		}
	}
	ctx := context.Background()

	b.Run("AuthenticateToken", func(b *testing.B) {
		for b.Loop() {
			if _, err := env.App.Auth.AuthenticateToken(ctx, token, "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	serve := func(b *testing.B, path, token string, want int) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			env.Echo.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
		}
	}
	b.Run("GET_healthz", func(b *testing.B) { serve(b, "/healthz", "", http.StatusOK) })
	b.Run("GET_apiops_projects", func(b *testing.B) { serve(b, "/apiops/projects/", token, http.StatusOK) })
	// A well-formed token that matches no row: the read a guesser costs.
	b.Run("GET_apiops_projects_unknown_token", func(b *testing.B) {
		serve(b, "/apiops/projects/", auth.TokenPrefix+"0000000000000000000000000000000000000000000", http.StatusUnauthorized)
	})
}
