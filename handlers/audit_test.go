package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/testenv"
)

// auditTeam is a Keyward whose log was filled through the API: root (admin)
// created the projects payments and billing; alice audits payments; bob is
// a member of payments without AUDIT:VIEW.
type auditTeam struct {
	*testenv.Env
	rootToken, aliceToken, bobToken string
}

func newAuditTeam(t *testing.T) auditTeam {
	t.Helper()
	env := testenv.New(t)
	env.CreateUser("root", true)
	env.CreateUser("alice", false)
	env.CreateUser("bob", false)
	tm := auditTeam{Env: env, rootToken: env.Token("root"), aliceToken: env.Token("alice"), bobToken: env.Token("bob")}
	for _, name := range []string{"payments", "billing"} {
		if r := env.API(tm.rootToken, http.MethodPost, "/apiops/projects/", map[string]string{"name": name}); r.Status != http.StatusOK {
			t.Fatalf("create project %s: %d %s", name, r.Status, r.Raw)
		}
	}
	env.Grant("payments", "alice", access.Presets["auditor"]...)
	env.Grant("payments", "bob", access.SecretsView)
	return tm
}

// column returns the text of one column of the audit table's rows.
func column(p testenv.Page, class string) []string {
	var out []string
	p.Doc.Find("#audit-entries tbody td." + class).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

func allEqual(vals []string, want string) bool {
	for _, v := range vals {
		if v != want {
			return false
		}
	}
	return len(vals) > 0
}

func TestAuditPageFullAndFragment(t *testing.T) {
	tm := newAuditTeam(t)
	b := tm.Browser()
	b.Login("root")

	p := b.Get("/audit", false)
	if p.Status != http.StatusOK || p.Doc.Find("html head title").Text() != "Audit log · Keyward" {
		t.Fatalf("full page: status %d, title %q", p.Status, p.Doc.Find("title").Text())
	}
	if !strings.Contains(p.Header.Get("Vary"), "HX-Request") {
		t.Errorf("Vary is %q", p.Header.Get("Vary"))
	}
	form := p.Doc.Find("form#audit-filters")
	if form.AttrOr("hx-get", "") != "/audit" || form.AttrOr("hx-target", "") != "#audit-results" || form.AttrOr("hx-push-url", "") != "true" {
		t.Fatalf("filter form attributes: %v", form.Nodes)
	}
	for _, name := range []string{"actor", "action", "object", "from", "to"} {
		if form.Find(`input[name="`+name+`"]`).Length() != 1 {
			t.Errorf("filter form has no %s input", name)
		}
	}
	if opts := form.Find(`select[name="project"] option`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }); strings.Join(opts, ",") != ",billing,payments" {
		t.Errorf("project options %q", opts)
	}
	if got := column(p, "action"); len(got) < 5 || got[len(got)-1] != "user.create" {
		t.Errorf("actions, newest first: %q", got)
	}
	if via := strings.Join(column(p, "actor .via"), ","); !strings.Contains(via, "via token:test-") || !strings.Contains(via, "via web") {
		t.Errorf("via column %q", via)
	}
	if p.Doc.Find("#audit-entries td.outcome .badge.ok").Length() == 0 || p.Doc.Find("a#audit-csv").AttrOr("href", "") != "/audit.csv" {
		t.Errorf("outcome badges or CSV link missing")
	}
	if p.Doc.Find("form#audit-verify-form button").Length() != 1 || p.Doc.Find(`nav a[href="/audit"][aria-current="page"]`).Length() != 1 {
		t.Errorf("admin sees no verify button or the nav item is not current")
	}

	frag := b.Get("/audit", true)
	if frag.Status != http.StatusOK || frag.Doc.Find("title").Length() != 0 || frag.Doc.Find("header.topbar").Length() != 0 {
		t.Fatalf("htmx request got the full document: %.200s", frag.Body)
	}
	if frag.Doc.Find("#audit-results #audit-entries").Length() != 1 {
		t.Fatalf("fragment has no results container")
	}
}

func TestAuditPageFiltersAndPages(t *testing.T) {
	tm := newAuditTeam(t)
	b := tm.Browser()
	b.Login("root")

	p := b.Get("/audit?project=billing&action=project.create", true)
	if got := column(p, "project"); len(got) != 1 || got[0] != "billing" || column(p, "action")[0] != "project.create" {
		t.Fatalf("project+action filter rows: %q", got)
	}
	if href := p.Doc.Find("a#audit-csv").AttrOr("href", ""); href != "/audit.csv?action=project.create&project=billing" {
		t.Errorf("CSV link %q does not carry the filter", href)
	}
	p = b.Get("/audit?actor=root", false)
	if got := column(p, "actor .name"); !allEqual(got, "root") || p.Doc.Find(`input[name="actor"]`).AttrOr("value", "") != "root" {
		t.Errorf("actor filter rows %q", got)
	}
	p = b.Get("/audit?action=project.", false)
	if got := column(p, "action"); len(got) != 4 || !allEqual(got[2:], "project.create") {
		t.Errorf("action prefix rows %q", got)
	}
	if p = b.Get("/audit?from=2030-01-01", false); p.Doc.Find("#no-entries").Length() != 1 {
		t.Errorf("future date range shows entries")
	}

	// Paging keeps the filter; page 1 has no "Newer", the last no "Older".
	p = b.Get("/audit?size=2&action=project.", false)
	older := p.Doc.Find("a#audit-older")
	if older.AttrOr("href", "") != "/audit?action=project.&page=2&size=2" || older.AttrOr("hx-target", "") != "#audit-results" || p.Doc.Find("#audit-newer").Length() != 0 {
		t.Fatalf("page 1 pager: older %q", older.AttrOr("href", ""))
	}
	p = b.Get(older.AttrOr("href", ""), true)
	if p.Doc.Find("a#audit-newer").AttrOr("href", "") != "/audit?action=project.&size=2" || p.Doc.Find("#audit-older").Length() != 0 {
		t.Fatalf("page 2 pager: %s", p.Doc.Find(".pager").Text())
	}
	if rows := column(p, "action"); strings.Join(rows, ",") != "project.create,project.create" {
		t.Fatalf("page 2 rows %q", rows)
	}

	for param, query := range map[string]string{"from": "from=yesterday", "to": "to=2026-11-23&from=2026-11-24", "size": "size=501", "page": "page=0"} {
		p = b.Get("/audit?"+query, false)
		msg := p.Doc.Find("#audit-filter-error").Text()
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, param) || p.Doc.Find("#audit-entries").Length() != 0 {
			t.Errorf("%s: status %d, message %q", query, p.Status, msg)
		}
	}
	if p = b.Get("/audit?from=yesterday", false); p.Doc.Find(`input[name="from"][aria-invalid="true"]`).AttrOr("value", "") != "yesterday" {
		t.Errorf("bad from value is not marked beside its field")
	}
}

func TestAuditPageForNonAdmins(t *testing.T) {
	tm := newAuditTeam(t)
	alice := tm.Browser()
	alice.Login("alice")
	p := alice.Get("/audit", false)
	if p.Status != http.StatusOK || !allEqual(column(p, "project"), "payments") {
		t.Fatalf("alice: status %d, projects %q", p.Status, column(p, "project"))
	}
	if opts := p.Doc.Find(`select[name="project"] option`).Length(); opts != 2 || p.Doc.Find("#audit-verify-form").Length() != 0 {
		t.Errorf("alice: %d project options, verify form shown: %d", opts, p.Doc.Find("#audit-verify-form").Length())
	}
	if p := alice.Get("/audit?project=billing", false); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "does not exist or you have no access") {
		t.Errorf("alice filtering billing: status %d", p.Status)
	}
	if p := alice.Post("/audit/verify", nil, true); p.Status != http.StatusForbidden {
		t.Errorf("alice verifying: status %d", p.Status)
	}
	bob := tm.Browser()
	bob.Login("bob")
	if p := bob.Get("/audit", false); p.Status != http.StatusForbidden {
		t.Errorf("bob: status %d", p.Status)
	}
	if p := tm.Browser().Get("/audit", false); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
		t.Errorf("anonymous: status %d location %q", p.Status, p.Location())
	}
}

func TestAuditCSVExport(t *testing.T) {
	tm := newAuditTeam(t)
	b := tm.Browser()
	// A failed sign-in records the name typed, which an attacker controls.
	b.Get("/login", false)
	b.Post("/login", url.Values{"username": {`=HYPERLINK("http://evil","x")`}, "password": {"nope"}}, false)
	b.Login("root")

	p := b.Get("/audit.csv?action=auth.login", false)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") ||
		p.Header.Get("Content-Disposition") != `attachment; filename="keyward-audit.csv"` {
		t.Fatalf("CSV response: %d %v", p.Status, p.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "id" || rows[0][10] != "detail" || rows[0][12] != "hash" {
		t.Fatalf("CSV rows: %q", rows)
	}
	if rows[1][2] != `'=HYPERLINK("http://evil","x")` || rows[1][9] != "denied" || rows[2][2] != "root" || len(rows[2][12]) != 64 {
		t.Fatalf("CSV data rows (oldest first, formula defused): %q", rows[1:])
	}
	r := tm.API(tm.rootToken, http.MethodGet, "/apiops/audit/?action=audit.export", nil)
	if entries, _ := r.Body["resultList"].([]any); len(entries) != 1 || entries[0].(map[string]any)["detail"] != "action=auth.login" {
		t.Fatalf("export not audited: %s", r.Raw)
	}

	if p := b.Get("/audit.csv?to=never", false); p.Status != http.StatusBadRequest || p.Header.Get("Content-Disposition") != "" || !strings.Contains(p.Body, "to must be") {
		t.Errorf("bad filter export: %d %v", p.Status, p.Header)
	}
	bob := tm.Browser()
	bob.Login("bob")
	if p := bob.Get("/audit.csv", false); p.Status != http.StatusForbidden || p.Header.Get("Content-Disposition") != "" {
		t.Errorf("bob's export: %d %v", p.Status, p.Header)
	}
}

func TestAuditAPI(t *testing.T) {
	tm := newAuditTeam(t)
	if r := tm.API("", http.MethodGet, "/apiops/audit/", nil); r.Status != http.StatusUnauthorized || r.Body["error"] != "unauthorized_client" {
		t.Fatalf("no token: %d %s", r.Status, r.Raw)
	}
	refused := []struct {
		token, query string
		status       int
		code, says   string
	}{
		{tm.bobToken, "", http.StatusForbidden, "access_denied", "AUDIT:VIEW"},
		{tm.aliceToken, "?project=billing", http.StatusNotFound, "not_found", `Project "billing" does not exist or you have no access to it.`},
		{tm.aliceToken, "?project=nope", http.StatusNotFound, "not_found", `"nope"`},
		{tm.aliceToken, "?page=0", http.StatusBadRequest, "bad_request", "page"},
		{tm.aliceToken, "?size=501", http.StatusBadRequest, "bad_request", "size"},
		{tm.aliceToken, "?size=ten", http.StatusBadRequest, "bad_request", "size"},
		{tm.aliceToken, "?from=23.11.2026", http.StatusBadRequest, "bad_request", "from"},
		{tm.aliceToken, "?to=tomorrow", http.StatusBadRequest, "bad_request", "to must be"},
	}
	for _, c := range refused {
		r := tm.API(c.token, http.MethodGet, "/apiops/audit/"+c.query, nil)
		desc, _ := r.Body["error_description"].(string)
		if r.Status != c.status || r.Body["error"] != c.code || !strings.Contains(desc, c.says) {
			t.Errorf("%s: %d %s, want %d %s naming %q", c.query, r.Status, r.Raw, c.status, c.code, c.says)
		}
	}

	r := tm.API(tm.aliceToken, http.MethodGet, "/apiops/audit?size=1", nil)
	entries, _ := r.Body["resultList"].([]any)
	if r.Status != http.StatusOK || r.Body["success"] != true || len(entries) != 1 || r.Body["page"] != 1.0 || r.Body["size"] != 1.0 || r.Body["hasNext"] != true {
		t.Fatalf("alice's first page: %d %s", r.Status, r.Raw)
	}
	e := entries[0].(map[string]any)
	for _, k := range []string{"id", "time", "actor", "via", "action", "project", "object", "environment", "sourceAddress", "outcome", "detail"} {
		if _, ok := e[k]; !ok {
			t.Errorf("entry has no %q: %v", k, e)
		}
	}
	r = tm.API(tm.aliceToken, http.MethodGet, "/apiops/audit/?size=500", nil)
	for _, x := range r.Body["resultList"].([]any) {
		if x.(map[string]any)["project"] != "payments" {
			t.Fatalf("alice reads an entry outside payments: %v", x)
		}
	}
	r = tm.API(tm.rootToken, http.MethodGet, "/apiops/audit/?project=billing&actor=root&action=project.create", nil)
	if entries, _ := r.Body["resultList"].([]any); len(entries) != 1 || entries[0].(map[string]any)["object"] != "project/billing" ||
		!strings.HasPrefix(entries[0].(map[string]any)["via"].(string), "token:") || r.Body["hasNext"] != false {
		t.Fatalf("root filtering billing: %s", r.Raw)
	}
}

func TestAuditVerifyPageShowsTheBrokenEntry(t *testing.T) {
	tm := newAuditTeam(t)
	b := tm.Browser()
	b.Login("root")
	b.Get("/audit", false)
	if p := b.Post("/audit/verify", url.Values{"_csrf": {"forged"}}, false); p.Status != http.StatusForbidden {
		t.Fatalf("verify without the CSRF token: status %d", p.Status)
	}
	p := b.Post("/audit/verify", nil, true)
	if p.Status != http.StatusOK || p.Doc.Find("title").Length() != 0 || !strings.HasPrefix(p.Doc.Find("#audit-verify .verify-result").Text(), "Intact: ") {
		t.Fatalf("verify (htmx): %d %q", p.Status, p.Doc.Find("#audit-verify").Text())
	}
	if p.Doc.Find("#audit-verify .badge.ok").Length() != 1 || column(p, "action")[0] != "audit.verify" {
		t.Errorf("intact badge or the check's own entry missing")
	}

	if _, err := tm.App.DB.Write.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.App.DB.Write.Exec(`UPDATE audit_log SET actor = 'someone-else' WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	p = b.Post("/audit/verify", nil, false)
	got := p.Doc.Find("#audit-verify .verify-result").Text()
	if p.Status != http.StatusOK || p.Doc.Find("title").Length() != 1 || got != "Broken at entry 5: entry 5 was modified: its content does not match its hash" {
		t.Fatalf("verify after tampering: %d %q", p.Status, got)
	}
	if p.Doc.Find("#audit-verify .badge.bad").Length() != 1 {
		t.Errorf("no broken badge")
	}
}
