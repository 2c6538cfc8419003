package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// TestFirstAdminSetupAndProject walks the first-start path: the one-time
// setup link creates the admin, who signs in and creates a project.
func TestFirstAdminSetupAndProject(t *testing.T) {
	env := testenv.New(t)
	tok, err := env.App.Auth.NewSetupToken(t.Context())
	if err != nil || tok == "" {
		t.Fatalf("setup token: %q, %v", tok, err)
	}
	b := env.Browser()
	if p := b.Get("/setup/wrong-token", false); p.Status != http.StatusNotFound {
		t.Fatalf("wrong setup token: status %d, want 404", p.Status)
	}
	p := b.Get("/setup/"+tok, false)
	if p.Status != http.StatusOK || p.Doc.Find(`form input[name="username"]`).Length() != 1 {
		t.Fatalf("setup page: status %d", p.Status)
	}
	p = b.Post("/setup/"+tok, url.Values{"username": {"root"}, "password": {"short"}, "password2": {"short"}}, false)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find(".field-error").Text(), "at least 12") {
		t.Fatalf("short password: status %d, errors %q", p.Status, p.Doc.Find(".field-error").Text())
	}
	p = b.Post("/setup/"+tok, url.Values{"username": {"root"}, "password": {testenv.Password}, "password2": {testenv.Password}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Fatalf("setup: status %d location %q body %s", p.Status, p.Location(), p.Body)
	}
	if p := b.Get("/setup/"+tok, false); p.Status != http.StatusNotFound {
		t.Fatalf("spent setup link: status %d, want 404", p.Status)
	}
	b.Login("root")
	p = b.Post("/projects", url.Values{"name": {"payments"}, "description": {"Payments APIs"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments" {
		t.Fatalf("create project: status %d location %q", p.Status, p.Location())
	}
	p = b.Get("/projects", false)
	if got := p.Doc.Find("#projects tbody tr td a").Text(); got != "payments" {
		t.Fatalf("project list shows %q", got)
	}
	frag := b.Get("/projects", true)
	if frag.Doc.Find("html head title").Length() != 0 || frag.Doc.Find("#projects").Length() != 1 {
		t.Fatalf("htmx request did not get a fragment: %s", frag.Body[:200])
	}
}

// TestLoginPagePointsToSetup: before the first admin exists the sign-in page
// says to use the setup link; afterwards it does not.
func TestLoginPagePointsToSetup(t *testing.T) {
	env := testenv.New(t)
	if p := env.Browser().Get("/login", false); p.Doc.Find("#needs-setup").Length() != 1 {
		t.Fatal("no setup hint while no user exists")
	}
	env.CreateUser("root", true)
	if p := env.Browser().Get("/login", false); p.Doc.Find("#needs-setup").Length() != 0 {
		t.Fatal("setup hint shown although an admin exists")
	}
}
