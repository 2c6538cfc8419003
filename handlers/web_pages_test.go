package handlers_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/testenv"
)

// checkSecurityHeaders asserts the headers every page carries.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
	if got := h.Get("Referrer-Policy"); got == "" {
		t.Errorf("%s: no Referrer-Policy", what)
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "HX-Request") {
		t.Errorf("%s: Vary %q does not name HX-Request", what, h.Values("Vary"))
	}
}

// TestNonAdminIsRefused: a user without the admin role gets 403 on the user
// pages and cannot create projects, environments or users.
func TestNonAdminIsRefused(t *testing.T) {
	env, _ := newSite(t)
	bob := env.Browser()
	bob.Login("bob")
	if bob.Get("/projects", false).Doc.Find(`header nav a[href="/admin/users"]`).Length() != 0 {
		t.Errorf("the navigation offers Users to a non-admin")
	}
	for _, path := range []string{"/admin/users", "/admin/users/root", "/admin/users/bob"} {
		for _, htmx := range []bool{false, true} {
			p := bob.Get(path, htmx)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Only administrators") {
				t.Errorf("bob GET %s (htmx %v): status %d", path, htmx, p.Status)
			}
		}
	}
	before := testenv.TakeSnapshot(t, env)
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/projects", url.Values{"name": {"bobs-project"}}},
		{"/environments", url.Values{"name": {"bobs-env"}, "webhookUrl": {"https://example.com/hook"}}},
		{"/admin/users", url.Values{"username": {"mallory"}, "password": {"a long enough password"}, "admin": {"1"}}},
		{"/admin/users/bob/admin", url.Values{"admin": {"1"}}},
		{"/admin/users/root/disabled", url.Values{"disabled": {"1"}}},
		{"/projects/payments/members", url.Values{"username": {"bob"}, "preset": {"owner"}}},
		{"/projects/payments/delete", url.Values{"confirm_name": {"payments"}}},
	} {
		p := bob.Post(c.path, c.form, false)
		if p.Status != http.StatusForbidden {
			t.Errorf("bob POST %s: status %d, want 403", c.path, p.Status)
			continue
		}
		if p.Doc.Find("main h1").Text() != "Forbidden" {
			t.Errorf("bob POST %s: the 403 page has heading %q", c.path, p.Doc.Find("main h1").Text())
		}
	}
	// Only the audit log records the refusals.
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused requests changed data: %s", d)
	}
	if n := count(t, env, `SELECT COUNT(*) FROM audit_log WHERE actor = 'bob' AND outcome = 'denied'`); n < 3 {
		t.Errorf("refusals audited: %d", n)
	}
}

// TestLastAdminProtected: the only admin cannot demote or disable themself;
// the page says why and nothing changes.
func TestLastAdminProtected(t *testing.T) {
	env, admin := newSite(t)
	if admin.Get("/admin/users/root", false).Doc.Find(`form[action="/admin/users/root/disabled"]`).Length() != 0 {
		t.Errorf("the user page offers the admin to disable themself")
	}
	for _, c := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/admin/users/root/admin", url.Values{"admin": {"0"}}, "last active administrator"},
		{"/admin/users/root/disabled", url.Values{"disabled": {"1"}}, "cannot disable your own account"},
	} {
		p := admin.Post(c.path, c.form, false)
		if p.Status != http.StatusSeeOther || p.Location() != "/admin/users/root" {
			t.Fatalf("POST %s: status %d location %q", c.path, p.Status, p.Location())
		}
		page := admin.Get(p.Location(), false)
		if msg := page.Doc.Find(".flash-error").Text(); !strings.Contains(msg, c.want) {
			t.Errorf("POST %s: flash %q, want %q", c.path, msg, c.want)
		}
		if page.Doc.Find(".badge.warn").Text() != "admin" || page.Doc.Find(".badge.ok").Text() != "active" {
			t.Errorf("POST %s changed root: %s", c.path, page.Doc.Find("main p").First().Text())
		}
	}
	if n := count(t, env, `SELECT COUNT(*) FROM users WHERE username = 'root' AND is_admin AND NOT disabled`); n != 1 {
		t.Fatalf("root is no longer an active admin")
	}
	if p := admin.Get("/projects", false); p.Status != http.StatusOK {
		t.Fatalf("root signed out: %d", p.Status)
	}
	// With a second admin, root may step down.
	admin.Post("/admin/users/bob/admin", url.Values{"admin": {"1"}}, false)
	p := admin.Post("/admin/users/root/admin", url.Values{"admin": {"0"}}, false)
	if msg := admin.Get(p.Location(), true).Doc.Find(".flash-success").Text(); !strings.Contains(msg, "no longer an administrator") {
		t.Fatalf("demotion with another admin: flash %q", msg)
	}
}

// TestFormsKeepValuesAndShowFieldErrors: rejected forms come back with 422,
// the typed values and the message beside the field, full page or fragment.
func TestFormsKeepValuesAndShowFieldErrors(t *testing.T) {
	env, admin := newSite(t)
	for _, htmx := range []bool{false, true} {
		for _, c := range []struct {
			path, form, field, want string
			values                  url.Values
			kept                    map[string]string // selector → value
		}{
			{"/projects", "#project-create", "name", "already exists",
				url.Values{"name": {"payments"}, "description": {"typed description"}},
				map[string]string{`input[name="name"]`: "payments", `textarea[name="description"]`: "typed description"}},
			{"/environments", "#environment-create", "webhookUrl", "must be an absolute http:// or https:// URL",
				url.Values{"name": {"staging"}, "description": {"typed"}, "webhookUrl": {"ftp://gw.example.com"}},
				map[string]string{`input[name="name"]`: "staging", `input[name="description"]`: "typed", `input[name="webhookUrl"]`: "ftp://gw.example.com"}},
			{"/environments/production", "#environment-update", "webhookUrl", "must be an absolute",
				url.Values{"description": {"typed"}, "webhookUrl": {"gw.example.com/hook"}},
				map[string]string{`input[name="description"]`: "typed", `input[name="webhookUrl"]`: "gw.example.com/hook"}},
			{"/admin/users", "#user-create", "password", "at least 12 characters",
				url.Values{"username": {"carol"}, "password": {"short"}, "admin": {"1"}},
				map[string]string{`input[name="username"]`: "carol"}},
			{"/admin/users/bob/password", "#password-reset", "password", "at least 12 characters",
				url.Values{"password": {"short"}}, nil},
			{"/account/password", "#password-change", "password", "at least 12 characters",
				url.Values{"current_password": {testenv.Password}, "password": {"short"}}, nil},
			{"/account/password", "#password-change", "current_password", "not correct",
				url.Values{"current_password": {"not my password"}, "password": {"long enough password"}}, nil},
			{"/account/tokens", "#token-create", "name", "required",
				url.Values{"name": {""}, "expires": {"2160h"}}, nil},
		} {
			before := testenv.TakeSnapshot(t, env)
			p := admin.Post(c.path, c.values, htmx)
			what := c.path + " " + c.field
			if htmx {
				what += " (htmx)"
			}
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("POST %s: status %d, want 422", what, p.Status)
				continue
			}
			checkSecurityHeaders(t, "POST "+what, p.Header)
			if htmx == strings.Contains(p.Body, "<html") {
				t.Errorf("POST %s: full document %v for htmx %v", what, !htmx, htmx)
			}
			form := p.Doc.Find(c.form)
			label := form.Find(`label:has([name="` + c.field + `"])`)
			if msg := label.Find(".field-error").Text(); !strings.Contains(msg, c.want) {
				t.Errorf("POST %s: message beside the field %q, want %q", what, msg, c.want)
			}
			if got := label.Find(`[name="`+c.field+`"]`).AttrOr("aria-invalid", ""); got != "true" {
				t.Errorf("POST %s: aria-invalid=%q", what, got)
			}
			for sel, want := range c.kept {
				el := form.Find(sel)
				got := el.AttrOr("value", "")
				if el.Is("textarea") {
					got = el.Text()
				}
				if got != want {
					t.Errorf("POST %s: %s = %q, want the typed %q", what, sel, got, want)
				}
			}
			if c.path == "/account/tokens" {
				if sel := form.Find(`select[name="expires"] option[selected]`).AttrOr("value", ""); sel != "2160h" {
					t.Errorf("POST %s: expiry choice not kept: %q", what, sel)
				}
			}
			if strings.Contains(p.Body, "long enough password") || strings.Contains(p.Body, testenv.Password) {
				t.Errorf("POST %s: a password is echoed in the page", what)
			}
			if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
				t.Errorf("POST %s changed data: %s", what, d)
			}
		}
	}
}

// TestTokensPage: a new token is shown once, listed by its prefix, works on
// the API until revoked, then answers 401 "revoked".
func TestTokensPage(t *testing.T) {
	env, admin := newSite(t)
	p := admin.Post("/account/tokens", url.Values{"name": {"ci-pipeline"}, "expires": {"720h"}}, true)
	if p.Status != http.StatusOK {
		t.Fatalf("create token: status %d %s", p.Status, p.Body)
	}
	tok := strings.TrimSpace(p.Doc.Find("#new-token-value").Text())
	if !strings.HasPrefix(tok, "kw_pat_") || len(tok) < 40 {
		t.Fatalf("new token %q", tok)
	}
	if !strings.Contains(p.Doc.Find("#new-token").Text(), "will not be shown again") {
		t.Errorf("the page does not warn the token is shown once")
	}
	if r := env.API(tok, http.MethodGet, "/apiops/projects/", nil); r.Status != http.StatusOK {
		t.Fatalf("new token on the API: %d %s", r.Status, r.Raw)
	}
	page := admin.Get("/account", false)
	if strings.Contains(page.Body, tok) || strings.Contains(admin.Get("/account", true).Body, tok) {
		t.Fatalf("the token is shown again on /account")
	}
	row := page.Doc.Find("#token-list tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "ci-pipeline")
	})
	if row.Length() != 1 || !strings.Contains(row.Find("code").Text(), tok[:len("kw_pat_")+6]) {
		t.Fatalf("token row: %q", row.Text())
	}
	action, ok := row.Find(`form[action$="/revoke"]`).Attr("action")
	if !ok {
		t.Fatalf("no revoke button in %q", row.Text())
	}
	p = admin.Post(action, nil, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/account" {
		t.Fatalf("revoke: status %d location %q", p.Status, p.Location())
	}
	page = admin.Get("/account", false)
	if !strings.Contains(page.Doc.Find(".flash-success").Text(), "revoked") || !strings.Contains(page.Doc.Find("#token-list").Text(), "revoked") {
		t.Errorf("after revoking, the page shows %q", page.Doc.Find("main").Text())
	}
	r := env.API(tok, http.MethodGet, "/apiops/projects/", nil)
	if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Raw), "revoked") {
		t.Fatalf("revoked token: %d %s", r.Status, r.Raw)
	}
	if strings.Contains(env.Logs.String(), tok) {
		t.Fatalf("the token value was logged")
	}
}

// TestSecretsAtRest: after creating a webhook secret, a user password and an
// API token, no file in the data directory and no log line holds them.
func TestSecretsAtRest(t *testing.T) {
	env, admin := newSite(t)
	p := admin.Post("/environments", url.Values{"name": {"staging"}, "webhookUrl": {"https://gw.example.com/hook"}}, false)
	if p.Status != http.StatusOK {
		t.Fatalf("create environment: status %d", p.Status)
	}
	secret := strings.TrimSpace(p.Doc.Find("#webhook-secret-value").Text())
	if len(secret) < 32 {
		t.Fatalf("webhook secret %q", secret)
	}
	if strings.Contains(admin.Get("/environments/staging", false).Body, secret) ||
		strings.Contains(admin.Get("/environments", false).Body, secret) {
		t.Fatalf("the webhook secret is shown after creation")
	}
	const password = "zebra quartz lantern 4711"
	if p := admin.Post("/admin/users", url.Values{"username": {"carol"}, "password": {password}}, false); p.Status != http.StatusSeeOther {
		t.Fatalf("create user: status %d", p.Status)
	}
	p = admin.Post("/account/tokens", url.Values{"name": {"ci"}, "expires": {"168h"}}, false)
	tok := strings.TrimSpace(p.Doc.Find("#new-token-value").Text())
	if !strings.HasPrefix(tok, "kw_pat_") {
		t.Fatalf("token %q", tok)
	}
	if err := env.App.DB.Checkpoint(t.Context()); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	env.Server.Close()
	if err := env.App.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	secrets := map[string]string{"webhook secret": secret, "API token": tok, "password": password, "test password": testenv.Password}
	files := 0
	err := filepath.WalkDir(env.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s is in clear in %s", what, path)
			}
		}
		return nil
	})
	if err != nil || files < 2 {
		t.Fatalf("scan data dir: %d files, %v", files, err)
	}
	for _, f := range []string{env.App.Config.KeyFile(), env.App.Config.DBPath()} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, "request") {
		t.Fatalf("no request logs were captured")
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("%s appears in the logs", what)
		}
	}
}

// TestNewEnvironmentPage shows revision 0 and an empty history.
func TestNewEnvironmentPage(t *testing.T) {
	_, admin := newSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/environments/production", htmx)
		if got := strings.TrimSpace(p.Doc.Find("#revision").Text()); got != "0" {
			t.Errorf("revision %q, want 0", got)
		}
		if got := p.Doc.Find("#no-deployments").Text(); !strings.Contains(got, "Nothing has been deployed") {
			t.Errorf("history %q", got)
		}
	}
	list := admin.Get("/environments", false)
	row := list.Doc.Find("#environments tbody tr")
	if row.Length() != 1 || strings.TrimSpace(row.Find("td").Eq(2).Text()) != "0" {
		t.Errorf("environment list row %q", row.Text())
	}
}

// TestTokensPageShowsExpiry: a token past its expiry (by the server's
// clock) is listed as expired, without a Revoke button, and no longer
// authenticates.
func TestTokensPageShowsExpiry(t *testing.T) {
	env, b := newSite(t)
	tok := env.Token("root") // expires after 24h
	row := b.Get("/account", false).Doc.Find("#token-list tbody tr")
	if row.Length() != 1 || strings.Contains(row.Text(), "expired") || row.Find("form").Length() != 1 {
		t.Fatalf("fresh token row: %q", row.Text())
	}
	env.Clock.Advance(25 * time.Hour)
	b.Login("root") // the session also expired
	row = b.Get("/account", false).Doc.Find("#token-list tbody tr")
	if !strings.Contains(row.Text(), "expired") || row.Find("form").Length() != 0 {
		t.Errorf("expired token row: %q", row.Text())
	}
	if r := env.API(tok, http.MethodGet, "/apiops/projects/", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", r.Status)
	}
}
